package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// readableTargets are the association target types that batch read serves
// (POST /crm/v3/objects/{objectType}/batch/read and its 2026-09 twin).
var readableTargets = []string{"deals", "quotes", "invoices", "orders", "carts", "subscriptions"}

// readableTarget maps a path's object type (name, singular or type id) to
// a readable target type.
func readableTarget(s string) (string, bool) {
	t, ok := canonicalObjectType(s)
	if !ok || !slices.Contains(readableTargets, t) {
		return "", false
	}
	return t, true
}

// targetType holds the unique property values of the seeded records of
// one readable target type. Guarded by Server.mu.
type targetType struct {
	values map[string]func(id string) string // property -> the value of record id
	unique map[string]map[string]string      // property -> uniqueKey(value) -> record id
	held   map[string]map[string]string      // record id -> property -> value
}

// addTargetUnique registers a Config.SeedUnique entry. Called by New.
func (s *Server) addTargetUnique(u SeedUnique) {
	if !strings.Contains(u.Pattern, "{id}") {
		panic(fmt.Sprintf("emulator: Config.SeedUnique: pattern %q of %s.%s has no {id}, so every record would hold the same value", u.Pattern, u.ObjectType, u.Property))
	}
	pattern := u.Pattern
	s.addTargetProperty("Config.SeedUnique", u.ObjectType, u.Property, func(id string) string { return strings.ReplaceAll(pattern, "{id}", id) })
}

// SeedUnique gives every record of objectType seeded with SeedObjects,
// before or after this call, the value value(id) of the unique property
// property, so that batch read finds it by that property. It is
// Config.SeedUnique with any function of the id. It panics if objectType
// cannot be read back (deals, quotes, invoices, orders, carts and
// subscriptions can), if property is already seeded for objectType, or if
// two records would hold the same value.
func (s *Server) SeedUnique(objectType, property string, value func(id string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTargetProperty("SeedUnique", objectType, property, value)
	for id := range s.objects[objectType] {
		s.seedTargetValue(objectType, property, id)
	}
}

// addTargetProperty registers a unique property of a readable target
// type. Guarded by s.mu (or called by New).
func (s *Server) addTargetProperty(caller, objectType, property string, value func(string) string) {
	if !slices.Contains(readableTargets, objectType) {
		panic(fmt.Sprintf("emulator: %s: object type %q cannot be read back (want one of %s)", caller, objectType, strings.Join(readableTargets, ", ")))
	}
	if property == "" || isSystemProp(property) {
		panic(fmt.Sprintf("emulator: %s: invalid property name %q", caller, property))
	}
	t := s.targets[objectType]
	if t == nil {
		t = &targetType{values: map[string]func(string) string{}, unique: map[string]map[string]string{}, held: map[string]map[string]string{}}
		s.targets[objectType] = t
	}
	if _, dup := t.values[property]; dup {
		panic(fmt.Sprintf("emulator: %s: %s.%s given twice", caller, objectType, property))
	}
	t.values[property] = value
	t.unique[property] = map[string]string{}
}

// seedTargetValues gives the seeded record id of objectType its unique
// values. Guarded by s.mu.
func (s *Server) seedTargetValues(objectType, id string) {
	if t := s.targets[objectType]; t != nil {
		for prop := range t.values {
			s.seedTargetValue(objectType, prop, id)
		}
	}
}

// seedTargetValue gives the seeded record id of objectType its value of
// the unique property prop. It panics if another record holds it.
// Guarded by s.mu.
func (s *Server) seedTargetValue(objectType, prop, id string) {
	t := s.targets[objectType]
	val := t.values[prop](id)
	key := s.uniqueKey(val)
	if owner, ok := t.unique[prop][key]; ok && owner != id {
		panic(fmt.Sprintf("emulator: %s %s would hold %s=%q, which %s %s already holds", objectType, id, prop, val, objectType, owner))
	}
	if old, ok := t.held[id][prop]; ok && s.uniqueKey(old) != key {
		delete(t.unique[prop], s.uniqueKey(old))
	}
	t.unique[prop][key] = id
	if t.held[id] == nil {
		t.held[id] = map[string]string{}
	}
	t.held[id][prop] = val
}

// readTargets looks up the records of target a batch read names. It
// returns the answer (without completedAt, unshuffled) and the ids not
// found, or the message of a 400. Guarded by s.mu.
func (s *Server) readTargets(req *batchReadRequest, target string, archived bool, v apiVersion, started time.Time) (batchReadResponse, map[string]bool, string) {
	t := s.targets[target]
	if req.byProperty {
		if t == nil || t.unique[req.idProperty] == nil {
			return batchReadResponse{}, nil, fmt.Sprintf("Invalid idProperty %q: it is not a unique value property of %s (hasUniqueValue is false or it does not exist); only a property with unique values can identify records, and record ids are read without idProperty", req.idProperty, target)
		}
	}
	// Only the unique properties are modelled; other names are ignored.
	var only []string
	for _, name := range req.properties {
		if t != nil && t.unique[name] != nil && !slices.Contains(only, name) {
			only = append(only, name)
		}
	}
	resp := batchReadResponse{Status: "COMPLETE", Results: []wireObject{}, StartedAt: formatInstant(started)}
	found := make(map[string]bool, len(req.ids))
	missing := make(map[string]bool)
	ts := formatInstant(s.start.Add(-24 * time.Hour))
	for _, in := range req.ids {
		id, ok := "", false
		if !archived {
			id, ok = s.targetLookup(req, target, in)
		}
		if !ok {
			if !missing[in] {
				missing[in] = true
				resp.Errors = append(resp.Errors, newStandardError("OBJECT_NOT_FOUND", notFoundMessageFor(target), map[string][]string{"ids": {in}}, nil))
			}
			continue
		}
		if found[id] {
			continue
		}
		found[id] = true
		props := map[string]*string{"hs_object_id": ptr(id), "createdate": ptr(ts), "hs_lastmodifieddate": ptr(ts)}
		for _, name := range only {
			if val, ok := t.held[id][name]; ok {
				props[name] = ptr(val)
			} else if v == api2026 {
				props[name] = nil
			}
		}
		resp.Results = append(resp.Results, wireObject{ID: id, Properties: props, CreatedAt: ts, UpdatedAt: ts})
	}
	return resp, missing, ""
}

// targetLookup finds the record of target a batch read input names: by
// record id exactly as seeded, or by a unique value compared as line
// items' are (Config.UniqueCaseInsensitive). Guarded by s.mu.
func (s *Server) targetLookup(req *batchReadRequest, target, in string) (string, bool) {
	if req.byProperty {
		id, ok := s.targets[target].unique[req.idProperty][s.uniqueKey(in)]
		return id, ok
	}
	return in, s.objects[target][in]
}

func ptr(s string) *string { return &s }
