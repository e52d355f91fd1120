package harness

import "net/http"

// NewProbe opens the effects probe e names: an effects URL read with
// client (and, when e.Auth is set, the delivery credentials of auth), a
// file the receiver appends event_ids to, a PostgreSQL query, the
// receiver's log lines matching e.Match (in e.Log), or a command printing
// the count. The probe is nil when e names none: idempotency is then
// unverified. close releases what the probe holds (the SQL connection, the
// open log files); it is never nil. Config.Validate refuses several probes;
// given several anyway, the URL wins, then the file, SQL, log, command.
func NewProbe(e EffectsConfig, client *http.Client, auth Authorizer) (p Probe, close func() error, err error) {
	none := func() error { return nil }
	switch {
	case e.URL != "":
		hp := &HTTPProbe{URL: e.URL, Client: client}
		if e.Auth {
			hp.Authorizer = auth
		}
		return hp, none, nil
	case e.File != "":
		return &FileProbe{Path: e.File}, none, nil
	case e.SQL.IsSet():
		sp, err := NewSQLProbe(e.SQL, e.Query)
		if err != nil {
			return nil, none, err
		}
		return sp, sp.Close, nil
	case e.Match != "":
		lp, err := NewLogProbe([]string{e.Log}, e.Match)
		if err != nil {
			return nil, none, err
		}
		return lp, lp.Close, nil
	case e.Command != "":
		cp, err := NewCommandProbe(e.Command, e.CommandShell, e.CommandTimeout)
		if err != nil {
			return nil, none, err
		}
		return cp, none, nil
	}
	return nil, none, nil
}
