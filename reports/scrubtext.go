package reports

// ScrubText removes secrets from text written beside a report (the
// evidence files of a reproduction) exactly as Scrub removes them from
// the report's fields.
func ScrubText(text string, secrets []string) string {
	return newScrubber(secrets).string(text)
}
