package pledge

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ValidateID checks a person identifier of the given scheme.
//
// employment is PNS, PPPK or NON_ASN, or "" when unknown (a query by NIP):
// then a NIP is checked only for its form, birth date and gender digit. at is
// the moment the identifier is used (a pledge's signed_at): a birth date or
// appointment after it is an error. A zero at skips those checks.
func ValidateID(scheme, id, employment string, at time.Time) error {
	switch {
	case scheme == SchemeNIP:
		if employment == NonASN {
			return fmt.Errorf("scheme %q: NON_ASN staff have no NIP: use \"nik\" or \"agency:<code>\"", scheme)
		}
		return ValidateNIP(id, employment, at)
	case scheme == SchemeNIK:
		return ValidateNIK(id)
	case strings.HasPrefix(scheme, SchemeAgencyPrefix):
		code := strings.TrimPrefix(scheme, SchemeAgencyPrefix)
		if !validToken(code, 64) {
			return fmt.Errorf("scheme %q: the agency code must be 1-64 letters, digits or - _ .", scheme)
		}
		if !validToken(id, 64) {
			return fmt.Errorf("id %q: an agency-issued number must be 1-64 letters, digits or - _ .", id)
		}
		return nil
	case scheme == "":
		return fmt.Errorf("scheme: missing")
	default:
		return fmt.Errorf("scheme %q is not \"nip\", \"nik\" or \"agency:<code>\"", scheme)
	}
}

func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// realDate parses a date from its parts and reports whether it exists
// (29 February only in leap years, no month 13, no day 32).
func realDate(year, month, day int) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return t, t.Day() == day && t.Month() == time.Month(month)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // callers pass digits only
	return n
}

// NIP layout: birth date YYYYMMDD (0–7), appointment YYYYMM for a PNS or
// year + contract code for a PPPK (8–13), gender (14), sequence (15–17).

// ValidateNIP checks an 18-digit NIP (see ValidateID for employment and at).
func ValidateNIP(nip, employment string, at time.Time) error {
	if len(nip) != 18 || !allDigits(nip) {
		return fmt.Errorf("NIP %q: must be 18 digits", nip)
	}
	birth, ok := realDate(atoi(nip[0:4]), atoi(nip[4:6]), atoi(nip[6:8]))
	if !ok || birth.Year() < 1900 {
		return fmt.Errorf("NIP %s: digits 1-8 (%s) are not a real birth date YYYYMMDD", nip, nip[0:8])
	}
	if !at.IsZero() && birth.After(at) {
		return fmt.Errorf("NIP %s: birth date %s is in the future", nip, birth.Format(DateLayout))
	}
	adult := birth.AddDate(18, 0, 0)
	year := atoi(nip[8:12])
	switch employment {
	case PNS:
		month := atoi(nip[12:14])
		if month < 1 || month > 12 {
			return fmt.Errorf("NIP %s: digits 9-14 (%s) are not an appointment year and month YYYYMM (month %02d)", nip, nip[8:14], month)
		}
		// Appointed in the month the person turned 18 at the earliest.
		if year < adult.Year() || year == adult.Year() && month < int(adult.Month()) {
			return fmt.Errorf("NIP %s: appointment %s is before the person turned 18 (born %s)", nip, nip[8:14], birth.Format(DateLayout))
		}
		if !at.IsZero() && (year > at.Year() || year == at.Year() && month > int(at.Month())) {
			return fmt.Errorf("NIP %s: appointment %s is in the future", nip, nip[8:14])
		}
	case PPPK:
		code := atoi(nip[12:14])
		if code < 21 || code > 29 {
			return fmt.Errorf("NIP %s: digits 13-14 (%s) are not a PPPK contract code 21-29", nip, nip[12:14])
		}
		if year < adult.Year() {
			return fmt.Errorf("NIP %s: contract year %d is before the person turned 18 (born %s)", nip, year, birth.Format(DateLayout))
		}
		if !at.IsZero() && year > at.Year() {
			return fmt.Errorf("NIP %s: contract year %d is in the future", nip, year)
		}
	case "":
		// Unknown employment: digits 9-14 can be either form.
	default:
		return fmt.Errorf("NIP %s: employment %q has no NIP", nip, employment)
	}
	if g := nip[14]; g != '1' && g != '2' {
		return fmt.Errorf("NIP %s: gender digit (15th) is %c, want 1 or 2", nip, g)
	}
	if nip[15:] == "000" {
		return fmt.Errorf("NIP %s: sequence number (digits 16-18) is 000", nip)
	}
	return nil
}

// provinces are the first two digits of a NIK (Dukcapil province codes,
// including those of the 2022 Papua provinces).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, "16": true, "17": true, "18": true, "19": true, "21": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true,
	"51": true, "52": true, "53": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "72": true, "73": true, "74": true, "75": true, "76": true,
	"81": true, "82": true, "91": true, "92": true, "93": true, "94": true, "95": true, "96": true,
}

// ValidateNIK checks a 16-digit national identity number: region code
// (province, regency, district), birth date DDMMYY with 40 added to the day
// for women, and a sequence number.
func ValidateNIK(nik string) error {
	if len(nik) != 16 || !allDigits(nik) {
		return fmt.Errorf("NIK %q: must be 16 digits", nik)
	}
	if !provinces[nik[0:2]] {
		return fmt.Errorf("NIK %s: digits 1-2 (%s) are not a province code", nik, nik[0:2])
	}
	if nik[2:4] == "00" || nik[4:6] == "00" {
		return fmt.Errorf("NIK %s: digits 3-6 (%s) are not a regency and district code", nik, nik[2:6])
	}
	day, month, yy := atoi(nik[6:8]), atoi(nik[8:10]), atoi(nik[10:12])
	if day > 40 {
		day -= 40
	}
	// The century is not written: the date must exist in 19yy or 20yy
	// (29 February 1900 did not exist, 29 February 2000 did).
	_, ok19 := realDate(1900+yy, month, day)
	_, ok20 := realDate(2000+yy, month, day)
	if !ok19 && !ok20 {
		return fmt.Errorf("NIK %s: digits 7-12 (%s) are not a birth date DDMMYY (women: day + 40)", nik, nik[6:12])
	}
	if nik[12:] == "0000" {
		return fmt.Errorf("NIK %s: sequence number (digits 13-16) is 0000", nik)
	}
	return nil
}
