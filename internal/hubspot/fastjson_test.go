package hubspot

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const sample201 = `{"status":"COMPLETE","results":[{"id":"37400000001","properties":{"createdate":"2026-11-28T12:00:00.000Z","hs_object_id":"37400000001","name":"Widget","price":"10.50","quantity":null,"tags":[1,-2.5e3,true,false,{}]},"createdAt":"2026-11-28T12:00:00.000Z","updatedAt":"2026-11-28T12:00:00.000Z","archived":false,"objectWriteTraceId":"7"},{"objectWriteTraceId":"8","id":"37400000002","properties":{}}],"startedAt":"2026-11-28T12:00:00.000Z","completedAt":"2026-11-28T12:00:00.001Z"}`

func TestDecodeCreated(t *testing.T) {
	var fast BatchResponse
	if !decodeCreated([]byte(sample201), &fast) {
		t.Fatal("fast path refused a plain 201")
	}
	want := BatchResponse{Status: "COMPLETE", Results: []Created{{ID: "37400000001", ObjectWriteTraceID: "7"}, {ID: "37400000002", ObjectWriteTraceID: "8"}}}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("got %+v, want %+v", fast, want)
	}
	for _, refused := range []string{
		`{"status":"COMPLETE","results":[],"errors":[{"message":"x"}]}`, // 207: the full decoder reads errors
		`{"results":[{"id":"1\u0030"}]}`,                                // escapes
		sample201[:len(sample201)-1],                                    // truncated
		sample201 + "x",                                                 // trailing garbage
		`{"results":[{"id":1}]}`,                                        // wrong type
		`{"results":[{"id":"1",}]}`,
		`{"results":[01]}`,
		`{"results":[{"id":"1","properties":{"k":"v"}}]}`, // no trace id: matched by its properties
		"{\"results\":[{\"id\":\"1\xff\"}]}",              // invalid UTF-8: encoding/json makes it U+FFFD
		"{\"results\":[{\"id\":\"1\xed\xa0\x80\"}]}",      // a surrogate half, invalid in UTF-8
		``,
	} {
		var r BatchResponse
		if decodeCreated([]byte(refused), &r) {
			t.Errorf("accepted %q", refused)
		}
	}
}

func FuzzDecodeCreated(f *testing.F) {
	f.Add([]byte(sample201))
	f.Add([]byte(`{"results":[]}`))
	f.Add([]byte("{\"results\":[{\"id\":\"é\xff\",\"objectWriteTraceId\":\"日本\"}]}"))
	f.Add([]byte(`{"status":"COMPLETE","results":[{"id":"1","objectWriteTraceId":"1","properties":{"a":"b"}}],"x":[null,{"y":-0.5E+2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast BatchResponse
		if !decodeCreated(data, &fast) {
			return
		}
		var std BatchResponse
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, data)
		}
		for i := range std.Results {
			std.Results[i].Properties = nil // left undecoded by the fast path
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("fast %+v, encoding/json %+v for %q", fast, std, data)
		}
	})
}

func BenchmarkDecodeBatchResponse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"status":"COMPLETE","results":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":"3740000000` + string(rune('0'+i%10)) + `","properties":{"createdate":"2026-11-28T12:00:00.000Z","description":"Annual subscription, billed monthly","hs_discount_percentage":"10","hs_lastmodifieddate":"2026-11-28T12:00:00.000Z","hs_line_item_currency_code":"USD","hs_object_id":"37400000001","hs_recurring_billing_start_date":"2026-01-01","hs_sku":"SKU-0000001","name":"Enterprise seat","price":"1234.50","quantity":"12","recurringbillingfrequency":"monthly"},"createdAt":"2026-11-28T12:00:00.000Z","updatedAt":"2026-11-28T12:00:00.000Z","archived":false,"objectWriteTraceId":"` + string(rune('0'+i%10)) + `"}`)
	}
	sb.WriteString(`],"startedAt":"2026-11-28T12:00:00.000Z","completedAt":"2026-11-28T12:00:00.001Z"}`)
	data := []byte(sb.String())
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r BatchResponse
			if !decodeCreated(data, &r) || len(r.Results) != 100 {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r BatchResponse
			if err := json.Unmarshal(data, &r); err != nil || len(r.Results) != 100 {
				b.Fatal(err)
			}
		}
	})
}
