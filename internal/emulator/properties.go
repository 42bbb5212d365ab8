package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Association categories of HubSpot's AssociationSpec.
const (
	CategoryHubSpotDefined    = "HUBSPOT_DEFINED"
	CategoryIntegratorDefined = "INTEGRATOR_DEFINED"
	CategoryUserDefined       = "USER_DEFINED"
	CategoryWork              = "WORK"
)

// objectTypes are the association targets the emulator models.
var objectTypes = []string{"deals", "quotes", "invoices", "orders", "carts", "subscriptions", "payments", "discounts"}

// objectTypeInfo describes an association target type.
type objectTypeInfo struct {
	typeID  string // HubSpot's object type id, e.g. 0-3
	upper   string // name used in association error messages, e.g. DEAL
	scope   string // read scope of the target object
	aliases []string
}

var objectTypeInfos = map[string]objectTypeInfo{
	"deals":         {"0-3", "DEAL", "crm.objects.deals.read", []string{"deal"}},
	"quotes":        {"0-14", "QUOTE", "crm.objects.quotes.read", []string{"quote"}},
	"invoices":      {"0-53", "INVOICE", "crm.objects.invoices.read", []string{"invoice"}},
	"orders":        {"0-123", "ORDER", "crm.objects.orders.read", []string{"order"}},
	"carts":         {"0-142", "CART", "crm.objects.carts.read", []string{"cart"}},
	"subscriptions": {"0-69", "SUBSCRIPTION", "crm.objects.subscriptions.read", []string{"subscription"}},
	"payments":      {"0-101", "COMMERCE_PAYMENT", "crm.objects.commercepayments.read", []string{"payment", "commerce_payments", "commerce_payment"}},
	"discounts":     {"0-84", "DISCOUNT", "crm.objects.discounts.read", []string{"discount"}},
}

// canonicalObjectType maps a path's object type (name, singular or type id)
// to the emulator's plural name.
func canonicalObjectType(s string) (string, bool) {
	s = strings.ToLower(s)
	for name, info := range objectTypeInfos {
		if s == name || s == info.typeID || slices.Contains(info.aliases, s) {
			return name, true
		}
	}
	return "", false
}

func isLineItemType(s string) bool {
	switch strings.ToLower(s) {
	case "line_items", "line_item", "0-8":
		return true
	}
	return false
}

// assocKey identifies an association type from line items.
type assocKey struct {
	category string
	typeID   int
}

// assocDef is an association type from line items to toType.
type assocDef struct {
	category string
	typeID   int
	toType   string
	label    string // "" for HubSpot's unlabeled defaults
}

// defaultAssociationTypes are HubSpot's HUBSPOT_DEFINED types from line
// items, from the "Line item to object" table of the associations guide.
// Targets the emulator does not model (abandoned carts 571, payment links
// 759, projects 1345) are left out, so they are rejected as unknown types.
func defaultAssociationTypes() []assocDef {
	return []assocDef{
		{CategoryHubSpotDefined, 20, "deals", ""},
		{CategoryHubSpotDefined, 68, "quotes", ""},
		{CategoryHubSpotDefined, 410, "invoices", ""},
		{CategoryHubSpotDefined, 514, "orders", ""},
		{CategoryHubSpotDefined, 591, "carts", ""},
		{CategoryHubSpotDefined, 302, "subscriptions", ""},
		{CategoryHubSpotDefined, 565, "subscriptions", "Upcoming line item"},
		{CategoryHubSpotDefined, 396, "payments", ""},
		{CategoryHubSpotDefined, 368, "discounts", ""},
	}
}

func labelScopes(params []string) []string {
	req := []string{ScopeLineItemsRead, ScopeLineItemsWrite}
	if to, ok := canonicalObjectType(params[1]); ok {
		req = append(req, objectTypeInfos[to].scope)
	}
	return req
}

func defaultFieldType(typ string) string {
	switch typ {
	case "number":
		return "number"
	case "date", "datetime":
		return "date"
	case "enumeration":
		return "select"
	case "bool":
		return "booleancheckbox"
	}
	return "text"
}

func opts(pairs ...string) []Option {
	var out []Option
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Option{Label: pairs[i+1], Value: pairs[i], DisplayOrder: i / 2})
	}
	return out
}

// defaultProperties are the default line item properties. They follow
// HubSpot's line item property list; only the properties a line item import
// may touch are modelled, plus the read-only ones a client must not send.
func defaultProperties() []Property {
	num := func(name, label, desc string) Property {
		return Property{Name: name, Label: label, Type: "number", FieldType: "number", Description: desc, HubSpotDefined: true, NumberDisplayHint: "unformatted"}
	}
	money := func(name, label, desc string) Property {
		p := num(name, label, desc)
		p.NumberDisplayHint = "currency"
		return p
	}
	calc := func(p Property, formula string) Property {
		p.Calculated, p.ReadOnlyValue, p.FieldType, p.CalculationFormula = true, true, "calculation_equation", formula
		return p
	}
	str := func(name, label, field, desc string) Property {
		return Property{Name: name, Label: label, Type: "string", FieldType: field, Description: desc, HubSpotDefined: true}
	}
	props := []Property{
		str("name", "Name", "text", "Product name"),
		str("description", "Description", "textarea", "Full description of product"),
		money("price", "Unit price", "Cost of product; cannot be negative"),
		num("quantity", "Quantity", "How many units of a product are in this line item"),
		calc(money("amount", "Net price", "Cost of the line item after discounts"), "price * quantity - discount"),
		money("discount", "Unit discount", "The discount amount applied"),
		num("hs_discount_percentage", "Discount Percentage", "The discount percentage applied"),
		str("hs_sku", "SKU", "text", "Unique product identifier"),
		money("hs_cost_of_goods_sold", "Unit cost", "The cost of goods sold for a product"),
		money("tax", "Tax", "The tax amount applied"),
		str("hs_tax_rate_group_id", "Tax rate", "text", "The id of the tax rate applied"),
		num("hs_product_id", "Product ID", "ID of the product this line item was copied from"),
		{
			Name: "hs_line_item_currency_code", Label: "Currency", Type: "enumeration", FieldType: "select",
			Description: "Currency code for the line item", HubSpotDefined: true,
			Options: opts("USD", "US Dollar", "EUR", "Euro", "GBP", "British Pound Sterling"),
		},
		{
			Name: "recurringbillingfrequency", Label: "Billing frequency", Type: "enumeration", FieldType: "select",
			Description: "How often this line item is billed", HubSpotDefined: true,
			Options: opts("weekly", "Weekly", "biweekly", "Biweekly", "monthly", "Monthly", "quarterly", "Quarterly",
				"per_six_months", "Semi-annually", "annually", "Annually", "per_two_years", "Every two years",
				"per_three_years", "Every three years", "per_four_years", "Every four years", "per_five_years", "Every five years"),
		},
		{Name: "hs_recurring_billing_start_date", Label: "Billing start date", Type: "date", FieldType: "date", Description: "Recurring billing start date for a line item", HubSpotDefined: true},
		str("hs_recurring_billing_period", "Term", "text", "The term of a recurring line item, as an ISO-8601 period (PnYnMnD or PnW)"),
		calc(num("hs_term_in_months", "Term (months)", "The term of a recurring line item in months"), "from hs_recurring_billing_period"),
		num("hs_billing_start_delay_days", "Billing start delay (days)", "Number of days to delay billing"),
		num("hs_billing_start_delay_months", "Billing start delay (months)", "Number of months to delay billing"),
		num("hs_position_on_quote", "Position on quote", "The order of the line item on a quote"),
		str("hs_url", "URL", "text", "URL of the product"),
		calc(money("hs_total_discount", "Total discount", "Total discount of the line item"), "discount * quantity"),
		calc(money("hs_pre_discount_amount", "Pre-discount amount", "Amount before discounts"), "price * quantity"),
		calc(money("hs_acv", "Annual contract value", "Annual contract value of the line item"), ""),
		calc(money("hs_arr", "Annual recurring revenue", "Annual recurring revenue of the line item"), ""),
		calc(money("hs_mrr", "Monthly recurring revenue", "Monthly recurring revenue of the line item"), ""),
		calc(money("hs_tcv", "Total contract value", "Total contract value of the line item"), ""),
		{Name: "createdate", Label: "Create Date", Type: "datetime", FieldType: "date", Description: "The date the line item was created", HubSpotDefined: true, ReadOnlyValue: true},
		{Name: "hs_lastmodifieddate", Label: "Last Modified Date", Type: "datetime", FieldType: "date", Description: "Most recent timestamp of any property update for this line item", HubSpotDefined: true, ReadOnlyValue: true},
		calc(num("hs_object_id", "Record ID", "The unique ID for this record. This value is set automatically by HubSpot."), ""),
	}
	for i := range props {
		props[i].DisplayOrder = -1
		props[i].GroupName = defaultGroupName
	}
	return props
}

// wireOption is the Option schema of properties.json.
type wireOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// wireModification is the PropertyModificationMetadata schema.
type wireModification struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
	ReadOnlyOptions    bool `json:"readOnlyOptions"`
}

// wireProperty is the Property schema of properties.json.
type wireProperty struct {
	UpdatedAt            string           `json:"updatedAt"`
	CreatedAt            string           `json:"createdAt"`
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Description          string           `json:"description"`
	GroupName            string           `json:"groupName"`
	Options              []wireOption     `json:"options"`
	CalculationFormula   string           `json:"calculationFormula,omitempty"`
	DisplayOrder         int              `json:"displayOrder"`
	Calculated           bool             `json:"calculated"`
	ExternalOptions      bool             `json:"externalOptions"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	HubspotDefined       bool             `json:"hubspotDefined"`
	NumberDisplayHint    string           `json:"numberDisplayHint,omitempty"`
	ModificationMetadata wireModification `json:"modificationMetadata"`
	FormField            bool             `json:"formField"`
	DataSensitivity      string           `json:"dataSensitivity"`
}

func (s *Server) wireProperty(p *Property) wireProperty {
	ts := formatInstant(s.start.Add(-24 * time.Hour))
	options := make([]wireOption, 0, len(p.Options))
	for _, o := range p.Options {
		options = append(options, wireOption{Label: o.Label, Value: o.Value, DisplayOrder: o.DisplayOrder, Hidden: o.Hidden})
	}
	numberHint := ""
	if p.Type == "number" {
		numberHint = p.NumberDisplayHint
	}
	return wireProperty{
		UpdatedAt: ts, CreatedAt: ts,
		Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType,
		Description: p.Description, GroupName: p.GroupName, Options: options,
		CalculationFormula: p.CalculationFormula, DisplayOrder: p.DisplayOrder,
		Calculated: p.Calculated, HasUniqueValue: p.HasUniqueValue, Hidden: p.Hidden,
		HubspotDefined: p.HubSpotDefined, NumberDisplayHint: numberHint,
		ModificationMetadata: wireModification{
			Archivable:         !p.HubSpotDefined,
			ReadOnlyDefinition: p.HubSpotDefined,
			ReadOnlyValue:      p.ReadOnlyValue || p.Calculated,
		},
		FormField:       !p.ReadOnlyValue && !p.Calculated,
		DataSensitivity: "non_sensitive",
	}
}

// handleProperties serves GET /crm/v3/properties/{objectType}
// (CollectionResponsePropertyNoPaging). Only line items are modelled.
func (s *Server) handleProperties(w http.ResponseWriter, r *http.Request, params []string) {
	s.handlePropertiesVersion(w, r, params, apiV3)
}

// handlePropertiesVersion serves the properties list in both API
// generations. The 2026-09 Property schema has no numberDisplayHint (nor
// textDisplayHint or currencyPropertyName, which the emulator never
// sends), so GET /crm/properties/2026-09/{objectType} leaves it out.
func (s *Server) handlePropertiesVersion(w http.ResponseWriter, r *http.Request, params []string, v apiVersion) {
	if !isLineItemType(params[0]) {
		s.writeError(w, http.StatusNotFound, apiError{Message: "resource not found"})
		return
	}
	archived := r.URL.Query().Get("archived")
	if archived != "" && archived != "true" && archived != "false" {
		s.validationError(w, "Invalid value for query parameter archived: "+archived)
		return
	}
	results := []wireProperty{}
	if archived != "true" {
		s.mu.Lock()
		for _, name := range s.order {
			p := s.wireProperty(s.props[name])
			if v == api2026 {
				p.NumberDisplayHint = ""
			}
			results = append(results, p)
		}
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, struct {
		Results []wireProperty `json:"results"`
	}{results})
}

// wireLabel is the AssociationSpecWithLabel schema.
type wireLabel struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

// handleLabels serves GET /crm/associations/v4/{from}/{to}/labels and its
// /crm/v4/associations alias (CollectionResponseAssociationSpecWithLabelNoPaging).
func (s *Server) handleLabels(w http.ResponseWriter, _ *http.Request, params []string) {
	if !isLineItemType(params[0]) {
		s.writeError(w, http.StatusNotFound, apiError{Message: "resource not found"})
		return
	}
	to, ok := canonicalObjectType(params[1])
	if !ok {
		s.validationError(w, "Unable to infer object type from: "+params[1])
		return
	}
	results := []wireLabel{}
	s.mu.Lock()
	for _, d := range s.assoc {
		if d.toType != to {
			continue
		}
		l := wireLabel{Category: d.category, TypeID: d.typeID}
		if d.label != "" {
			label := d.label
			l.Label = &label
		}
		results = append(results, l)
	}
	s.mu.Unlock()
	slices.SortFunc(results, func(a, b wireLabel) int {
		if c := strings.Compare(a.Category, b.Category); c != 0 {
			return c
		}
		return a.TypeID - b.TypeID
	})
	writeJSON(w, http.StatusOK, struct {
		Results []wireLabel `json:"results"`
	}{results})
}
