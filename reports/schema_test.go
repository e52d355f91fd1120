package reports

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Every field report.json can hold is described in report.schema.json:
// a field added to a struct without the schema fails here (and, for the
// closed objects, in every test that writes a report).
func TestSchemaDescribesEveryField(t *testing.T) {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
				Items      struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"items"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(ReportSchema, &schema); err != nil {
		t.Fatal(err)
	}
	props := func(def string) map[string]bool {
		out := map[string]bool{}
		for k := range schema.Defs[def].Properties {
			out[k] = true
		}
		return out
	}
	top := map[string]bool{}
	for k := range schema.Properties {
		top[k] = true
	}
	request := map[string]bool{}
	for k := range schema.Defs["evidence"].Properties["request"].Properties {
		request[k] = true
	}
	lost := map[string]bool{}
	for k := range schema.Defs["load"].Properties["lost_events"].Items.Properties {
		lost[k] = true
	}
	for _, tc := range []struct {
		typ  reflect.Type
		have map[string]bool
	}{
		{reflect.TypeFor[Report](), top},
		{reflect.TypeFor[RequirementResult](), props("requirement")},
		{reflect.TypeFor[Evidence](), props("evidence")},
		{reflect.TypeFor[RequestEvidence](), request},
		{reflect.TypeFor[Reproduction](), props("reproduction")},
		{reflect.TypeFor[LoadSection](), props("load")},
		{reflect.TypeFor[LostEvent](), lost},
		{reflect.TypeFor[DeliveryStats](), props("deliveries")},
	} {
		for i := range tc.typ.NumField() {
			name, _, _ := strings.Cut(tc.typ.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" && !tc.have[name] {
				t.Errorf("%s.%s (%q) is not in report.schema.json", tc.typ.Name(), tc.typ.Field(i).Name, name)
			}
		}
	}
}
