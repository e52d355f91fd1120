package load

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is this generator's part of a run split across N machines: it
// sends 1/N of the rate and of MaxRequests, draws event_ids from its own
// seed space, and names its attack after the shard so that `vegeta report`
// and `vegeta plot` can merge the result files, and a merge of them can
// tell whether a shard is missing. The zero value means no sharding.
type Shard struct {
	I int `json:"i"`
	N int `json:"n"`
}

// String is the shard as "i/n", the form ParseShard reads.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// valid reports whether s is i/n with 0 ≤ i < n.
func (s Shard) valid() bool { return s.N >= 1 && s.I >= 0 && s.I < s.N }

// ParseShard reads "i/n" with 0 ≤ i < n, e.g. "0/4".
func ParseShard(v string) (Shard, error) {
	is, ns, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if s := (Shard{I: i, N: n}); ok && err1 == nil && err2 == nil && s.valid() {
		return s, nil
	}
	return Shard{}, fmt.Errorf("%q is not i/n with 0 ≤ i < n (e.g. 0/4)", v)
}

// Attack names: an unsharded run's, and the prefix of a shard's.
const (
	unshardedAttack   = "hookproof"
	shardAttackPrefix = "hookproof-shard-"
)

// AttackName is the vegeta attack name results are written under:
// distinct per shard, so that merged result files plot and count apart.
func (s Shard) AttackName() string {
	if s.N <= 1 {
		return unshardedAttack
	}
	return fmt.Sprintf("%s%d-of-%d", shardAttackPrefix, s.I, s.N)
}

// ShardOfAttack is the inverse of AttackName for a sharded run's attack;
// ok is false for any other name (an unsharded run, vegeta's own attacks).
func ShardOfAttack(name string) (s Shard, ok bool) {
	rest, ok := strings.CutPrefix(name, shardAttackPrefix)
	is, ns, ok2 := strings.Cut(rest, "-of-")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	s = Shard{I: i, N: n}
	if !ok || !ok2 || err1 != nil || err2 != nil || !s.valid() || s.AttackName() != name {
		return Shard{}, false
	}
	return s, true
}
