package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ReportSchema is the JSON Schema of report.json (draft 2020-12), shipped
// so that scripts reading reports can validate what they read.
//
//go:embed report.schema.json
var ReportSchema []byte

const reportSchemaURL = "https://github.com/hookproof/hookproof/reports/report.schema.json"

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportSchema))
	if err != nil {
		return nil, fmt.Errorf("reports: parse report.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(reportSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("reports: load report.schema.json: %w", err)
	}
	s, err := c.Compile(reportSchemaURL)
	if err != nil {
		return nil, fmt.Errorf("reports: compile report.schema.json: %w", err)
	}
	return s, nil
})

// ValidateSchema checks report.json bytes against ReportSchema.
func ValidateSchema(b []byte) error {
	s, err := compiledSchema()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("report.json: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("report.json does not follow report.schema.json: %w", err)
	}
	return nil
}
