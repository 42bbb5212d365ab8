package importer

import (
	"os"
	"testing"
)

// TestMain keeps few keys and content identities in memory, so that every
// test of more than 16 rows also goes through the files where a large
// import keeps the rest (see spillAfter).
func TestMain(m *testing.M) {
	spillAfter = 16
	os.Exit(m.Run())
}
