// Package reports holds the results of a hookproof run as data, and renders
// them: report.json (the contract scripts read), junit.xml for CI systems,
// summary.md for a job summary or pull-request comment, report.html for a
// reviewer offline, and a final table for the terminal.
//
// Data comes first: a Report is built by the scenarios package from a Ginkgo
// run, or by the load command from a load run, or read back from
// report.json; every renderer is a pure function of a Report, so
// `hookproof report --from report.json` re-renders without a live run.
//
// Secrets: Scrub replaces every known secret value in a Report before it is
// rendered, and redacts what is recognisably a credential (harness's
// RedactHeaders and RedactURL rules: an Authorization header, a URL's
// userinfo or token query value, a JWT), so a secret the caller forgot to
// name is still caught.
package reports
