package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// DefaultSQLConnectTimeout bounds a connection attempt when the DSN does
// not set connect_timeout: an unreachable database must fail a check, not
// hang it.
const DefaultSQLConnectTimeout = 5 * time.Second

// SQLProbe runs a query such as
//
//	SELECT count(*) FROM processed WHERE event_id = $1
//
// against PostgreSQL with the event_id as $1; the answer must be exactly one
// row holding one non-negative integer. One connection, opened on first use
// and reopened after a connection failure, serves all Counts: probes are
// read a few times per check, and one connection keeps the load on the
// receiver's database negligible.
type SQLProbe struct {
	cfg    *pgx.ConnConfig
	query  string
	scrub  []string      // the DSN and its password, never to appear in errors
	permit chan struct{} // holds the connection; a channel so waiting honours ctx
	conn   *pgx.Conn
}

// NewSQLProbe checks the DSN and query; it does not connect, so a database
// that is still starting is not an error yet.
func NewSQLProbe(dsn Secret, query string) (*SQLProbe, error) {
	scrub := []string{dsn.Reveal()}
	if !dsn.IsSet() {
		return nil, fmt.Errorf("%w: effects.sql (--effects-sql): empty DSN", ErrProbe)
	}
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("%w: effects.query (--effects-query): empty query", ErrProbe)
	}
	if !strings.Contains(query, "$1") {
		return nil, fmt.Errorf("%w: effects.query (--effects-query): the query must use $1 for the event_id", ErrProbe)
	}
	cfg, err := pgx.ParseConfig(dsn.Reveal())
	if err != nil {
		// pgconn redacts passwords it recognises; scrub the raw DSN too, in
		// case it could not even tell where the password was.
		return nil, fmt.Errorf("%w: effects.sql (--effects-sql): %s", ErrProbe, scrubText(err.Error(), scrub))
	}
	if cfg.Password != "" {
		scrub = append(scrub, cfg.Password)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultSQLConnectTimeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "hookproof effects probe"
	}
	return &SQLProbe{cfg: cfg, query: query, scrub: scrub, permit: make(chan struct{}, 1)}, nil
}

// Describe implements Probe: host, port and database, never user or password.
func (p *SQLProbe) Describe() string {
	host := p.cfg.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, strconv.Itoa(int(p.cfg.Port)))
	}
	return fmt.Sprintf("effects SQL on postgres %s/%s", host, p.cfg.Database)
}

// Count implements Probe.
func (p *SQLProbe) Count(ctx context.Context, eventID string) (int, error) {
	select {
	case p.permit <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-p.permit }()
	if p.conn == nil || p.conn.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("%w: connecting to %s: %s", ErrProbe, p.where(), p.clean(err))
		}
		p.conn = c
	}
	n, err := p.count(ctx, eventID)
	if err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) && !errors.Is(err, errSQLAnswer) {
			// A network failure or cancellation may leave the connection
			// mid-protocol; the next Count starts on a fresh one.
			p.closeConn()
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	return n, err
}

// errSQLAnswer marks a query that ran but answered something other than
// one integer; the connection is still good.
var errSQLAnswer = errors.New("answer")

func (p *SQLProbe) count(ctx context.Context, eventID string) (int, error) {
	rows, err := p.conn.Query(ctx, p.query, eventID)
	if err != nil {
		return 0, p.queryErr(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, p.queryErr(err)
		}
		return 0, fmt.Errorf("%w: effects query returned no row; want one row with one integer (e.g. SELECT count(*) ...): %w", ErrProbe, errSQLAnswer)
	}
	fields := rows.FieldDescriptions()
	if len(fields) != 1 {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		return 0, fmt.Errorf("%w: effects query returned %d columns (%s); want one integer column: %w", ErrProbe, len(fields), strings.Join(names, ", "), errSQLAnswer)
	}
	vals, err := rows.Values()
	if err != nil {
		return 0, p.queryErr(err)
	}
	n, err := sqlInt(vals[0])
	if err != nil {
		return 0, fmt.Errorf("%w: effects query column %q: %w: %w", ErrProbe, fields[0].Name, err, errSQLAnswer)
	}
	if rows.Next() {
		return 0, fmt.Errorf("%w: effects query returned more than one row; want exactly one (aggregate with count(*)): %w", ErrProbe, errSQLAnswer)
	}
	if err := rows.Err(); err != nil {
		return 0, p.queryErr(err)
	}
	return n, nil
}

// sqlInt accepts the integer types a count can come back as (bigint from
// count(*), int, smallint, a numeric without fraction) and nothing else.
func sqlInt(v any) (int, error) {
	var i64 int64
	switch x := v.(type) {
	case nil:
		return 0, errors.New("value is NULL, not an integer")
	case int64:
		i64 = x
	case int32:
		i64 = int64(x)
	case int16:
		i64 = int64(x)
	case int8:
		i64 = int64(x)
	case uint32:
		i64 = int64(x)
	case pgtype.Numeric:
		if !x.Valid {
			return 0, errors.New("value is NULL, not an integer")
		}
		if x.NaN || x.InfinityModifier != pgtype.Finite {
			return 0, errors.New("value is not a finite number")
		}
		r := new(big.Rat).SetInt(x.Int)
		scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(x.Exp))), nil))
		if x.Exp < 0 {
			r.Quo(r, scale)
		} else {
			r.Mul(r, scale)
		}
		if !r.IsInt() || !r.Num().IsInt64() {
			return 0, fmt.Errorf("value %s is not an integer", r.FloatString(3))
		}
		i64 = r.Num().Int64()
	default:
		return 0, fmt.Errorf("value %v is a %T, not an integer", excerpt(fmt.Sprint(v)), v)
	}
	if i64 < 0 {
		return 0, fmt.Errorf("value %d is negative; a count cannot be", i64)
	}
	if i64 > math.MaxInt32 {
		return 0, fmt.Errorf("value %d is too large to be a count", i64)
	}
	return int(i64), nil
}

func abs32(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

func (p *SQLProbe) queryErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// The server's own words (and SQLSTATE) say what is wrong with the query.
		return fmt.Errorf("%w: effects query failed: %s (SQLSTATE %s)", ErrProbe, p.clean(pgErr), pgErr.Code)
	}
	return fmt.Errorf("%w: effects query on %s: %s", ErrProbe, p.where(), p.clean(err))
}

// where names the database for errors without the DSN.
func (p *SQLProbe) where() string {
	return strings.TrimPrefix(p.Describe(), "effects SQL on ")
}

func (p *SQLProbe) clean(err error) string { return scrubText(err.Error(), p.scrub) }

func (p *SQLProbe) closeConn() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.conn.Close(ctx)
	p.conn = nil
}

// Close closes the probe's connection. Counting after Close reconnects.
func (p *SQLProbe) Close() error {
	p.permit <- struct{}{}
	defer func() { <-p.permit }()
	p.closeConn()
	return nil
}

// scrubText replaces every secret in s; it is applied to driver messages,
// which are not ours and might quote a connection string.
func scrubText(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}
