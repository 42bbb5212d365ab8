package journal

import (
	"encoding/json"
	"testing"
)

// TestMarshalMatchesEncodingJSON: the hand-written encoding of the common
// records is byte for byte what encoding/json writes, and everything else
// goes to encoding/json.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	recs := []record{
		{T: "sent", Rows: [][2]int{{1, 1}}},
		{T: "sent", Rows: [][2]int{{1, 100}, {102, 150}, {-3, 0}}},
		{T: "done", Create: []createdRow{{1, "37400000001"}, {2, "s-2"}, {3, "A_b"}}},
		{T: "done", Create: []createdRow{{1, `needs "escaping" <&>`}, {2, "7"}}},
		{T: "done", Create: []createdRow{{1, "é"}}},
		{T: "done", Create: []createdRow{{1, ""}}},
		{T: "done", Out: []outcome{{Row: 4, S: "f", Code: "X", Msg: "m"}}},
		{T: "done", Out: []outcome{{Row: 4, S: "n"}}, Create: []createdRow{{5, "9"}}},
		{T: "start", Header: &Header{Version: 1, Input: "abc", Mapping: "def"}},
		{T: "sent"},
		{T: "done"},
	}
	for _, rec := range recs {
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshal(rec)
		if err != nil || string(got) != string(want) {
			t.Errorf("marshal(%+v):\n got %s (%v)\nwant %s", rec, got, err, want)
		}
	}
}

func FuzzMarshal(f *testing.F) {
	f.Add(1, 5, "37400000001", 7)
	f.Add(-1, 0, "a\"b", 0)
	f.Fuzz(func(t *testing.T, a, b int, id string, row int) {
		for _, rec := range []record{
			{T: "sent", Rows: [][2]int{{a, b}, {row, row}}},
			{T: "done", Create: []createdRow{{row, id}, {a, "1"}}},
		} {
			want, _ := json.Marshal(rec)
			got, err := marshal(rec)
			if err != nil || string(got) != string(want) {
				t.Fatalf("marshal(%+v):\n got %s (%v)\nwant %s", rec, got, err, want)
			}
		}
	})
}
