// Package sample generates realistic line-item CSV files: the committed
// sample, test inputs and benchmark files of millions of rows.
//
// The columns are fixed, so rows are a struct marshalled by gocsv; rows
// are streamed through a channel, so memory does not grow with the file.
package sample

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/gocarina/gocsv"
)

// Row is one generated line item, ten columns.
type Row struct {
	SKU         string `csv:"SKU"`
	Product     string `csv:"Product"`
	Description string `csv:"Description"`
	Qty         string `csv:"Qty"`
	UnitPrice   string `csv:"Unit Price"`
	Discount    string `csv:"Discount %"`
	Currency    string `csv:"Currency"`
	Billing     string `csv:"Billing"`
	Start       string `csv:"Start"`
	DealID      string `csv:"Deal ID"`
}

// Mapping is the YAML mapping that fits Row's columns.
const Mapping = `# Mapping for samples/line_items.csv: HubSpot property: CSV column.
properties:
  hs_sku: SKU
  name: Product
  description: Description
  quantity: {column: Qty, type: number}
  price: {column: Unit Price, type: number}
  hs_discount_percentage: {column: Discount %, type: number}
  hs_line_item_currency_code: Currency
  recurringbillingfrequency: {column: Billing, type: enum, values: {Monthly: monthly, Quarterly: quarterly, Yearly: annually}}
  hs_recurring_billing_start_date: {column: Start, type: date, format: "01/02/2006"}
associations:
  - {column: Deal ID, to: deal}
key: SKU
`

// FirstDeal and LastDeal bound the deal ids generated rows point at; an
// emulator seeded with them accepts every association.
const (
	FirstDeal = 1001
	LastDeal  = 1020
)

// DealIDs returns the ids FirstDeal..LastDeal, for seeding an emulator.
func DealIDs() []string {
	var ids []string
	for id := FirstDeal; id <= LastDeal; id++ {
		ids = append(ids, fmt.Sprint(id))
	}
	return ids
}

var products = []struct{ name, desc string }{
	{"Analytics Pro seat", "Per-user analytics licence"},
	{"Onboarding package", "Guided onboarding, 5 sessions"},
	{"Premium support", "24/7 support with 1 h response"},
	{"API add-on", "Extra 1M API calls per month"},
	{"Storage 1 TB", "Additional encrypted storage"},
	{"Training day", "On-site training, one day, up to 12 people"},
	{"Enterprise seat", "Enterprise plan, per user"},
	{"Custom integration", "Integration work, fixed price"},
}

var billings = []string{"Monthly", "Quarterly", "Yearly", ""}
var currencies = []string{"USD", "EUR", "GBP"}

// NewRow returns row i (1-based) of a file generated from seed r.
func NewRow(i int, r *rand.Rand) Row {
	p := products[r.IntN(len(products))]
	start := ""
	if r.IntN(4) > 0 {
		start = fmt.Sprintf("%02d/%02d/2026", 1+r.IntN(12), 1+r.IntN(28))
	}
	deal := ""
	if r.IntN(5) > 0 {
		deal = fmt.Sprint(FirstDeal + r.IntN(LastDeal-FirstDeal+1))
	}
	return Row{
		SKU:         fmt.Sprintf("SKU-%07d", i),
		Product:     p.name,
		Description: p.desc,
		Qty:         fmt.Sprint(1 + r.IntN(50)),
		UnitPrice:   fmt.Sprintf("%d.%02d", 5+r.IntN(5000), r.IntN(100)),
		Discount:    fmt.Sprint(r.IntN(4) * 5),
		Currency:    currencies[r.IntN(len(currencies))],
		Billing:     billings[r.IntN(len(billings))],
		Start:       start,
		DealID:      deal,
	}
}

// Write streams n generated rows, header first, to w. Every row is valid
// for Mapping against a portal with deals FirstDeal..LastDeal; fix, if not
// nil, may alter row i before it is written (to plant problems).
func Write(w io.Writer, n int, seed uint64, fix func(i int, row *Row)) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rows := make(chan any, 256)
	go func() {
		defer close(rows)
		for i := 1; i <= n; i++ {
			row := NewRow(i, r)
			if fix != nil {
				fix(i, &row)
			}
			rows <- row
		}
	}()
	err := gocsv.MarshalChan(rows, gocsv.DefaultCSVWriter(w))
	for range rows { // let the generator finish if marshalling stopped early
	}
	return err
}

// SampleRows is the size of the committed sample file.
const SampleRows = 300

// Problems are the rows of the committed sample that HubSpot (or the
// importer, before sending) must reject, by row number, with why.
var Problems = map[int]string{
	17:  "Billing label Fortnightly is not in the mapping",
	42:  "negative Unit Price",
	73:  "Unit Price with a thousands separator",
	88:  "ragged row: one field too many",
	121: "Currency XYZ is not an option of hs_line_item_currency_code",
	150: "Deal ID 9999 does not exist",
	199: "Start is not a real date",
}

// WriteSample writes the committed sample: SampleRows rows, all valid but
// those in Problems.
func WriteSample(w io.Writer) error {
	var buf bytes.Buffer
	err := Write(&buf, SampleRows, 2026, func(i int, r *Row) {
		switch i {
		case 17:
			r.Billing = "Fortnightly"
		case 42:
			r.UnitPrice = "-25.00"
		case 73:
			r.UnitPrice = "1,299.00"
		case 88:
			r.Description = raggedMarker
		case 121:
			r.Currency = "XYZ"
		case 150:
			r.DealID = "9999"
		case 199:
			r.Start = "02/30/2026"
		}
	})
	if err != nil {
		return err
	}
	// A ragged row cannot come out of a CSV writer: put it in by hand.
	out := bytes.Replace(buf.Bytes(), []byte(raggedMarker), []byte("Two seats,extra field"), 1)
	_, err = w.Write(out)
	return err
}

const raggedMarker = "@@RAGGED@@"
