package ledger

import (
	"testing"

	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster that the tests start when
// they run on PostgreSQL (PAKTA_TEST_ENGINE=postgres).
func TestMain(m *testing.M) { pgtest.Main(m) }
