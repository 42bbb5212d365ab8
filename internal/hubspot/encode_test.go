package hubspot

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

func TestAppendInputMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name  string
		in    CreateInput
		trace string
	}{
		{"empty", CreateInput{}, ""},
		{"props and trace", CreateInput{Properties: ValuesOf(map[string]string{"name": "Widget", "price": "10.50", "quantity": "3"})}, "17"},
		{"escapes", CreateInput{Properties: ValuesOf(map[string]string{"description": "a \"q\" \\ <b>&\n\t\r\x01 \u2028 é 😀", "k<": "\xff bad"})}, "1"},
		{"unsorted, a name twice", CreateInput{Properties: PropertyValues{{"quantity", "3"}, {"name", "A"}, {"price", "1"}, {"name", "B"}}}, "5"},
		{"associations", CreateInput{
			Associations: []Association{
				{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}},
				{To: ObjectID{ID: "7"}, Types: []AssociationType{{Category: CategoryUserDefined, TypeID: 3}, {Category: CategoryHubSpotDefined, TypeID: 68}}},
			},
			Properties: PropertyValues{{"name", "x"}},
		}, "99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkEncoding(t, tc.in, tc.trace)
		})
	}
}

// mapInput is CreateInput with its properties as a map: encoding/json's
// encoding of it is what AppendInput must match.
type mapInput struct {
	Associations       []Association     `json:"associations"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
	Properties         map[string]string `json:"properties"`
}

func checkEncoding(t *testing.T, in CreateInput, trace string) {
	t.Helper()
	ref := mapInput{Associations: in.Associations, ObjectWriteTraceID: trace, Properties: in.Properties.Map()}
	if ref.Associations == nil {
		ref.Associations = []Association{}
	}
	want, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	got, ts, te := AppendInput(nil, in, trace)
	if string(got) != string(want) {
		t.Fatalf("AppendInput:\n got %s\nwant %s", got, want)
	}
	in.ObjectWriteTraceID = trace
	if viaMarshal, err := json.Marshal(in); err != nil || string(viaMarshal) != string(want) {
		t.Fatalf("json.Marshal(CreateInput):\n got %s (%v)\nwant %s", viaMarshal, err, want)
	}
	ref.ObjectWriteTraceID = ""
	without, _ := json.Marshal(ref)
	if s := string(got[:ts]) + string(got[te:]); s != string(without) {
		t.Fatalf("bytes outside the trace id field:\n got %s\nwant %s", s, without)
	}
	for _, nv := range in.Properties {
		if !utf8.ValidString(nv.Name) || !utf8.ValidString(nv.Value) {
			return // decoding replaces invalid UTF-8: no round trip
		}
	}
	var back CreateInput
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(back.Properties.Map(), ref.Properties) {
		t.Fatalf("decoded properties %v, want %v", back.Properties, ref.Properties)
	}
}

func FuzzAppendInput(f *testing.F) {
	f.Add("name", "Widget", "1001", "5")
	f.Add("d\"esc", "<a>\u2028\xff\x00", "", "")
	f.Fuzz(func(t *testing.T, k, v, assoc, trace string) {
		in := CreateInput{Properties: PropertyValues{{k, v}, {"price", v + "1"}, {k, v + "2"}}}
		if assoc != "" {
			in.Associations = []Association{{To: ObjectID{ID: assoc}, Types: []AssociationType{{Category: k, TypeID: len(v)}}}}
		}
		checkEncoding(t, in, trace)
	})
}

func BenchmarkAppendInput(b *testing.B) {
	in := CreateInput{
		Associations: []Association{{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}}},
		Properties: ValuesOf(map[string]string{"name": "Enterprise plan seat", "price": "1234.50", "quantity": "12", "hs_sku": "SKU-000123",
			"description": "Annual subscription, billed monthly", "recurringbillingfrequency": "monthly", "hs_recurring_billing_start_date": "2026-01-01",
			"discount": "10", "hs_line_item_currency_code": "USD"}),
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = AppendInput(buf[:0], in, "123456")
	}
}

// BenchmarkJSONMarshalInput encodes the same input as BenchmarkAppendInput
// with encoding/json, its properties as a map, for comparison.
func BenchmarkJSONMarshalInput(b *testing.B) {
	in := mapInput{
		Associations: []Association{{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}}},
		Properties: map[string]string{"name": "Enterprise plan seat", "price": "1234.50", "quantity": "12", "hs_sku": "SKU-000123",
			"description": "Annual subscription, billed monthly", "recurringbillingfrequency": "monthly", "hs_recurring_billing_start_date": "2026-01-01",
			"discount": "10", "hs_line_item_currency_code": "USD"},
		ObjectWriteTraceID: "123456",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendUpsertInputMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name           string
		in             CreateInput
		prop, id, trac string
	}{
		{"plain", CreateInput{Properties: PropertyValues{{"name", "Widget"}, {"import_key", "K-1"}}}, "import_key", "K-1", "3"},
		{"no trace", CreateInput{Properties: PropertyValues{{"name", "x"}}}, "import_key", "K-2", ""},
		{"escapes, associations left out", CreateInput{
			Associations: []Association{{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}}},
			Properties:   PropertyValues{{"description", "<b>\"q\"</b>\n"}},
		}, "sku<", "a\"b", "9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := struct {
				ID                 string            `json:"id"`
				IDProperty         string            `json:"idProperty"`
				ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
				Properties         map[string]string `json:"properties"`
			}{tc.id, tc.prop, tc.trac, tc.in.Properties.Map()}
			want, err := json.Marshal(ref)
			if err != nil {
				t.Fatal(err)
			}
			got, ts, te := AppendUpsertInput(nil, tc.in, tc.prop, tc.id, tc.trac)
			if string(got) != string(want) {
				t.Fatalf("AppendUpsertInput:\n got %s\nwant %s", got, want)
			}
			viaType, _ := json.Marshal(UpsertInput{ID: tc.id, IDProperty: tc.prop, ObjectWriteTraceID: tc.trac, Properties: tc.in.Properties})
			if string(viaType) != string(want) {
				t.Fatalf("json.Marshal(UpsertInput):\n got %s\nwant %s", viaType, want)
			}
			ref.ObjectWriteTraceID = ""
			without, _ := json.Marshal(ref)
			if s := string(got[:ts]) + string(got[te:]); s != string(without) {
				t.Fatalf("bytes outside the trace id field:\n got %s\nwant %s", s, without)
			}
		})
	}
}
