package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	paktaclient "github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/pledge"
)

// abuseScale multiplies the attacks' sizes: PAKTA_ABUSE_SCALE=5 gives the
// issue's figures (1,500 slow bundles, 20,000 idle connections, thousands
// of pledges); 1, the default, keeps the test to a few seconds.
func abuseScale(t *testing.T) int {
	if v := os.Getenv("PAKTA_ABUSE_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PAKTA_ABUSE_SCALE=%q", v)
		}
		return n
	}
	return 1
}

// rssMiB reads a process's resident set now and its peak, in MiB.
func rssMiB(t *testing.T, pid int) (now, peak float64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

// timeCheckpoint fetches /checkpoint on a new connection, as a client
// does: retrying after a 503's Retry-After, or a second after a connection
// closed unanswered, for up to 10 s. It returns how long the answer took
// and how many refusals came first, or fails.
func timeCheckpoint(t *testing.T, url string) (time.Duration, int) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	for retries := 0; ; retries++ {
		resp, err := c.Get(url + "/checkpoint")
		if err != nil && time.Since(start) < 10*time.Second {
			// A connection closed unanswered (too many refusals to
			// answer each): a GET is safe to try again.
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			t.Fatalf("/checkpoint during the attack: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200:
			return time.Since(start), retries
		case resp.StatusCode == 503 && time.Since(start) < 10*time.Second:
			s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(s, 1)) * time.Second)
			continue
		}
		t.Fatalf("/checkpoint during the attack: %d after %s", resp.StatusCode, time.Since(start))
	}
}

// TestAbuse attacks the real binary as issue 17 did, at a fifth of the
// issue's sizes (PAKTA_ABUSE_SCALE=5 for the full ones), and checks that
// memory stays bounded and /checkpoint keeps answering: slow 1 MiB
// bundles to POST /v1/verify, idle keep-alive connections, and a person
// with many pledges. It logs the figures RELIABILITY.md reports.
func TestAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test: not in -short")
	}
	scale := abuseScale(t)
	dir := filepath.Join(t.TempDir(), "data")
	mustPakta(t, "init", "--dir", dir, "--origin", "pakta.test/abuse")
	s := startServer(t, dir)
	defer s.stop(t)
	pid := s.cmd.Process.Pid
	addr := strings.TrimPrefix(s.url, "http://")
	idle, _ := rssMiB(t, pid)
	t.Logf("idle server: RSS %.0f MiB", idle)

	t.Run("slow bundles", func(t *testing.T) {
		n := 300 * scale
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		// Each sends all of its 1 MiB bundle but the last KiB, then
		// stalls: what a server reading bodies into memory keeps the most
		// of.
		body := bytes.Repeat([]byte(" "), 1<<20-1<<10)
		var wg sync.WaitGroup
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(c, "POST /v1/verify HTTP/1.1\r\nHost: pakta\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 1<<20)
				c.Write(body) // refused ones are closed under it: errors expected
			}()
		}
		wg.Wait()
		sent := time.Now()
		defer func() {
			if t.Failed() { // what the attack cost a server that failed it
				now, peak := rssMiB(t, pid)
				t.Logf("RSS %.0f MiB (peak %.0f) %s after the attack", now, peak, time.Since(sent).Round(time.Second))
			}
		}()
		took, retries := timeCheckpoint(t, s.url)
		var nrefused atomic.Int64
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetReadDeadline(time.Now().Add(2 * time.Second)) // the 503s come at once; a loaded machine may take a moment to send them
				if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 503 {
					nrefused.Add(1)
				}
			}()
		}
		wg.Wait()
		refused := int(nrefused.Load())
		// Hold the rest open a while: a server that reads such bodies
		// into memory grows as it reads them.
		time.Sleep(time.Until(sent.Add(time.Duration(2*scale) * time.Second)))
		now, peak := rssMiB(t, pid)
		t.Logf("%d connections sending 1 MiB bundles, stalled before the last KiB: RSS %.0f MiB (peak %.0f) %s after, /checkpoint in %s (after %d refusals), %d answered 503 at once",
			n, now, peak, time.Since(sent).Round(time.Second), took.Round(time.Microsecond), retries, refused)
		if peak > 400 || refused < n-100 {
			t.Fatalf("peak RSS %.0f MiB, %d of %d refused", peak, refused, n)
		}
	})

	t.Run("idle connections", func(t *testing.T) {
		n := 4000 * scale
		// This process holds every connection too: stay under its limit.
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && uint64(n) > lim.Cur-1000 {
			n = int(lim.Cur - 1000)
		}
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		buf := make([]byte, 4096)
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: pakta\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Read(buf) // the answer; then the connection idles
		}
		now, peak := rssMiB(t, pid)
		took, retries := timeCheckpoint(t, s.url)
		t.Logf("%d idle keep-alive connections: RSS %.0f MiB (peak %.0f), /checkpoint in %s (after %d refusals)", n, now, peak, took.Round(time.Microsecond), retries)
		if took > 5*time.Second {
			t.Fatalf("/checkpoint took %s", took)
		}
	})

	t.Run("many pledges", func(t *testing.T) {
		n := 250 * scale
		registrar, err := pledge.ReadPrivateKeyFile(filepath.Join(dir, "registrar.jwk"))
		if err != nil {
			t.Fatal(err)
		}
		k, _ := pledge.GenerateKey("", rand.Reader)
		wib := time.FixedZone("WIB", 7*3600)
		now := time.Now().In(wib)
		person := pledge.Person{Scheme: "nip", ID: "198703152010011002", Name: "Budi", Agency: pledge.Agency{Code: "1810", Name: "Mesuji"}, Employment: pledge.PNS}
		enr, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person, JWK: k.Public(), ValidFrom: now.Add(-time.Hour).Format(time.RFC3339)}, registrar, k)
		client := &http.Client{Timeout: 30 * time.Second}
		if code, body, err := post(client, s.url, enr); err != nil || code != 201 {
			t.Fatalf("%d %s %v", code, body, err)
		}
		// Since templates, many pledges of one person need as many
		// templates, which only a registrar can publish: the attack now
		// needs the registrar's key too.
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				tm, _ := pledge.Sign(&pledge.Template{Type: pledge.TypeTemplate, ID: fmt.Sprintf("abuse-%d", i), Lang: "id", Election: fmt.Sprintf("Pemilu %d", i),
					Agencies: []string{"1810"}, Text: "netral", SHA256: pledge.TextHash("netral")}, registrar)
				if code, body, err := post(client, s.url, tm); err != nil || code != 201 {
					t.Errorf("template %d: %d %s %v", i, code, body, err)
				}
			}()
		}
		wg.Wait()
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				pl, _ := pledge.Sign(&pledge.Pledge{Type: pledge.TypePledge, ID: fmt.Sprintf("abuse-%d", i), Signer: person,
					Template: pledge.TemplateRef{ID: fmt.Sprintf("abuse-%d", i), SHA256: pledge.TextHash("netral")}, Text: "netral",
					Election: fmt.Sprintf("Pemilu %d", i), Place: "Mesuji", Date: now.Format("2006-01-02"), SignedAt: now.Format(time.RFC3339)}, k)
				if code, body, err := post(client, s.url, pl); err != nil || code != 201 {
					t.Errorf("pledge %d: %d %s %v", i, code, body, err)
				}
			}()
		}
		wg.Wait()
		// The registrar reads them: pledges are restricted reads.
		api, err := paktaclient.New(s.url, paktaclient.Config{HTTP: client, Key: registrar})
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"nip": {person.ID}, "date": {now.Format("2006-01-02")}}
		var sizes []int
		pages, total := 0, 0
		for q.Set("limit", "1000"); ; pages++ {
			body, err := api.Get(context.Background(), "/v1/pledges", q)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(body))
			var p struct {
				Bundles    []any  `json:"bundles"`
				NextCursor string `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			total += len(p.Bundles)
			if p.NextCursor == "" {
				break
			}
			q.Set("cursor", p.NextCursor)
		}
		first, err := api.Get(context.Background(), "/v1/pledges", url.Values{"nip": {person.ID}, "date": {now.Format("2006-01-02")}})
		if err != nil {
			t.Fatal(err)
		}
		_, peak := rssMiB(t, pid)
		t.Logf("%d pledges by one person on one day: default page (100) %d KB, pages of 1000: %v bytes, %d bundles in all; peak RSS %.0f MiB",
			n, len(first)/1000, sizes, total, peak)
		if total != n || len(first) > 2<<20 {
			t.Fatalf("%d of %d bundles; first page %d bytes", total, n, len(first))
		}
		for _, bad := range []url.Values{{"limit": {"1001"}}, {"limit": {"0"}}, {"cursor": {"x"}}} {
			bad.Set("nip", person.ID)
			bad.Set("date", now.Format("2006-01-02"))
			var se *paktaclient.StatusError
			if _, err := api.Get(context.Background(), "/v1/pledges", bad); !errors.As(err, &se) || se.Status != 400 {
				t.Errorf("%s: %v, want 400", bad.Encode(), err)
			}
		}
	})
}
