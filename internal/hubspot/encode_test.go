package hubspot

import (
	"encoding/json"
	"testing"
)

func TestAppendInputMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name  string
		in    CreateInput
		trace string
	}{
		{"empty", CreateInput{}, ""},
		{"props and trace", CreateInput{Properties: map[string]string{"name": "Widget", "price": "10.50", "quantity": "3"}}, "17"},
		{"escapes", CreateInput{Properties: map[string]string{"description": "a \"q\" \\ <b>&\n\t\r\x01 \u2028 é 😀", "k<": "\xff bad"}}, "1"},
		{"associations", CreateInput{
			Associations: []Association{
				{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}},
				{To: ObjectID{ID: "7"}, Types: []AssociationType{{Category: CategoryUserDefined, TypeID: 3}, {Category: CategoryHubSpotDefined, TypeID: 68}}},
			},
			Properties: map[string]string{"name": "x"},
		}, "99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkEncoding(t, tc.in, tc.trace)
		})
	}
}

func checkEncoding(t *testing.T, in CreateInput, trace string) {
	t.Helper()
	in.ObjectWriteTraceID = trace
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, ts, te := AppendInput(nil, in, trace)
	if string(got) != string(want) {
		t.Fatalf("AppendInput:\n got %s\nwant %s", got, want)
	}
	in.ObjectWriteTraceID = ""
	without, _ := json.Marshal(in)
	if s := string(got[:ts]) + string(got[te:]); s != string(without) {
		t.Fatalf("bytes outside the trace id field:\n got %s\nwant %s", s, without)
	}
}

func FuzzAppendInput(f *testing.F) {
	f.Add("name", "Widget", "1001", "5")
	f.Add("d\"esc", "<a>\u2028\xff\x00", "", "")
	f.Fuzz(func(t *testing.T, k, v, assoc, trace string) {
		in := CreateInput{Properties: map[string]string{k: v, "price": v + "1"}}
		if assoc != "" {
			in.Associations = []Association{{To: ObjectID{ID: assoc}, Types: []AssociationType{{Category: k, TypeID: len(v)}}}}
		}
		checkEncoding(t, in, trace)
	})
}

func BenchmarkAppendInput(b *testing.B) {
	in := CreateInput{
		Associations: []Association{{To: ObjectID{ID: "1001"}, Types: []AssociationType{{Category: CategoryHubSpotDefined, TypeID: 20}}}},
		Properties: map[string]string{"name": "Enterprise plan seat", "price": "1234.50", "quantity": "12", "hs_sku": "SKU-000123",
			"description": "Annual subscription, billed monthly", "recurringbillingfrequency": "monthly", "hs_recurring_billing_start_date": "2026-01-01",
			"discount": "10", "hs_line_item_currency_code": "USD"},
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = AppendInput(buf[:0], in, "123456")
	}
}

func BenchmarkJSONMarshalInput(b *testing.B) {
	in := CreateInput{
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
