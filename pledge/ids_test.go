package pledge

import (
	"strings"
	"testing"
	"time"
)

func TestValidateNIP(t *testing.T) {
	at := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, nip, employment string
		wantErr               string // substring; "" = valid
	}{
		{"valid PNS", "198703152010011002", PNS, ""},
		{"valid PNS female", "199001012015032001", PNS, ""},
		{"valid PPPK first contract", "199005122023212003", PPPK, ""},
		{"valid PPPK part-time code 24", "198512302024242001", PPPK, ""},
		{"unknown employment accepts either form", "199005122023212003", "", ""},
		{"29 Feb in leap year", "200002292020011001", PNS, ""},
		{"29 Feb 1996 leap", "199602292018011001", PNS, ""},
		{"29 Feb in non-leap year", "199902292020011001", PNS, "not a real birth date"},
		{"29 Feb 1900 not leap", "190002292020011001", PNS, "not a real birth date"},
		{"month 13 birth", "198713152010011002", PNS, "not a real birth date"},
		{"day 32", "198703322010011002", PNS, "not a real birth date"},
		{"appointment month 13", "198703152010131002", PNS, "not an appointment"},
		{"appointment month 00", "198703152010001002", PNS, "not an appointment"},
		{"appointment before age 18", "198703152005011002", PNS, "before the person turned 18"},
		{"appointment the month before turning 18", "198703152005021002", PNS, "before the person turned 18"},
		{"appointment the month of turning 18", "198703152005031002", PNS, ""},
		{"appointment in the future", "198703152024021002", PNS, "in the future"},
		{"PPPK code 20", "199005122023202003", PPPK, "contract code"},
		{"PPPK code 30", "199005122023302003", PPPK, "contract code"},
		{"PPPK month-like code as PNS is fine", "199005122023112003", PNS, ""},
		{"PPPK code as PNS month fails", "199005122023212003", PNS, "not an appointment"},
		{"gender 3", "198703152010013002", PNS, "gender digit"},
		{"gender 0", "198703152010010002", PNS, "gender digit"},
		{"sequence 000", "198703152010011000", PNS, "sequence"},
		{"17 digits", "19870315201001100", PNS, "18 digits"},
		{"19 digits", "1987031520100110021", PNS, "18 digits"},
		{"letters", "19870315201001100a", PNS, "18 digits"},
		{"unicode digits", "١٩٨٧٠٣١٥٢٠١٠٠١١٠٠٢", PNS, "18 digits"},
		{"born in the future", "202501012010011002", "", "future"},
		{"NON_ASN has no NIP", "198703152010011002", NonASN, "have no NIP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateID(SchemeNIP, tt.nip, tt.employment, at)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestValidateNIK(t *testing.T) {
	tests := []struct {
		name, nik, wantErr string
	}{
		{"valid male", "7601011503870001", ""},
		{"valid female day+40", "7601015503870002", ""},
		{"29 Feb 2000 (leap)", "3171012902000001", ""},
		{"29 Feb 96", "3171012902960001", ""},
		{"29 Feb 99 in neither century", "3171012902990001", "birth date"},
		{"female 29 Feb 99", "3171016902990001", "birth date"},
		{"day 32", "3171013201900001", "birth date"},
		{"female day 72", "3171017201900001", "birth date"},
		{"month 13", "3171011513900001", "birth date"},
		{"no province 99", "9971011503870001", "province"},
		{"province 00", "0071011503870001", "province"},
		{"regency 00", "7600011503870001", "regency"},
		{"sequence 0000", "7601011503870000", "sequence"},
		{"15 digits", "760101150387000", "16 digits"},
		{"letters", "760101150387000X", "16 digits"},
		{"new Papua province 95", "9501011503870001", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateID(SchemeNIK, tt.nik, NonASN, time.Time{}), tt.wantErr)
		})
	}
}

func TestValidateIDSchemes(t *testing.T) {
	tests := []struct {
		name, scheme, id, employment, wantErr string
	}{
		{"agency id", "agency:7601", "HON-2023-0042", NonASN, ""},
		{"agency code empty", "agency:", "42", NonASN, "agency code"},
		{"agency code with space", "agency:76 01", "42", NonASN, "agency code"},
		{"agency id empty", "agency:7601", "", NonASN, "agency-issued"},
		{"agency id with slash", "agency:7601", "a/b", NonASN, "agency-issued"},
		{"unknown scheme", "passport", "A1234567", NonASN, "not \"nip\""},
		{"uppercase scheme", "NIP", "198703152010011002", PNS, "not \"nip\""},
		{"empty scheme", "", "1", PNS, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateID(tt.scheme, tt.id, tt.employment, time.Time{}), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	case err != nil && strings.Count(err.Error(), "pledge: ") > 1:
		// Every error a parser returns says "pledge: " once: wrapping
		// must not repeat the package's prefix.
		t.Fatalf("error %q repeats its prefix", err)
	}
}
