package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pakta-id/pakta/verify"
)

// slowBody opens a connection that sends the headers of a POST declaring
// length bytes of body, and the first few bytes of it, then stalls.
func slowBody(t *testing.T, addr, path, contentType string, length int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: pakta\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n{\"v\":", path, contentType, length)
	return c
}

// readResponse reads one response from c.
func readResponse(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestBodyBudget: bodies that clients send slowly hold their declared
// length of the budget; once it is spent, other bodies get 503 with
// Retry-After and a JSON error before the server reads them, reads are
// still served, and the budget comes back when the slow clients go.
func TestBodyBudget(t *testing.T) {
	e := newEnv(t, nil, Options{BodyBudget: 2 * verify.MaxBundleSize, BodyTimeout: time.Minute})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	var slow []net.Conn
	for range 2 {
		slow = append(slow, slowBody(t, addr, "/v1/verify", "application/json", verify.MaxBundleSize))
	}
	waitFor(t, "two bodies in the budget", func() bool { return e.h.lim.bodies.inUse() == 2*verify.MaxBundleSize })

	// A third slow bundle, and a small submission: both refused, at once.
	third := slowBody(t, addr, "/v1/verify", "application/json", verify.MaxBundleSize)
	resp, body := readResponse(t, third)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(body, `"reason":"body_budget"`) {
		t.Fatalf("a bundle over the budget: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	r := e.submit(e.sign(e.pledgeStatement(person(1), "Pemilu 2024"), e.Registrar))
	if eb := errorOf(t, r, 503); eb.Detail["reason"] != "body_budget" || r.header.Get("Retry-After") == "" {
		t.Fatalf("a submission over the budget: %s", r.body)
	}
	if r := e.get("/checkpoint"); r.status != 200 {
		t.Fatalf("a read while the budget is spent: %d", r.status)
	}

	// The slow clients give up: their share comes back.
	for _, c := range slow {
		c.Close()
	}
	waitFor(t, "the budget to be given back", func() bool { return e.h.lim.bodies.inUse() == 0 })
	emp := e.enroll(5)
	if r := e.submit(e.sign(e.pledgeStatement(emp.p, "Pemilu 2024"), emp.key)); r.status != 201 {
		t.Fatalf("a submission after the budget came back: %d %s", r.status, r.body)
	}
}

// TestInFlightLimit: with as many submissions and verifications in flight
// as allowed, one more is shed with 503 before its body is read.
func TestInFlightLimit(t *testing.T) {
	e := newEnv(t, nil, Options{MaxInFlight: 1, BodyTimeout: time.Minute})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	hold := slowBody(t, addr, "/v1/verify", "application/json", 1000)
	waitFor(t, "one request in flight", func() bool { return e.h.lim.inFlight.inUse() == 1 })
	r := e.submit([]byte("eyJ.eyJ.sig"))
	if eb := errorOf(t, r, 503); eb.Detail["reason"] != "in_flight" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("%s", r.body)
	}
	hold.Close()
	waitFor(t, "the place to be given back", func() bool { return e.h.lim.inFlight.inUse() == 0 })
	errorOf(t, e.submit([]byte("eyJ.eyJ.sig")), 400)
}

// TestSlowBodyTimesOut: a body sent slower than BodyTimeout gets 408 and
// gives its share of the budget back; a body that ends early gets 400.
func TestSlowBodyTimesOut(t *testing.T) {
	e := newEnv(t, nil, Options{BodyTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	start := time.Now()
	c := slowBody(t, addr, "/v1/entries", MediaTypeJOSE, 5000)
	resp, body := readResponse(t, c)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, "took over 300ms") || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("slow body: %d %s after %s", resp.StatusCode, body, time.Since(start))
	}
	waitFor(t, "the budget to be given back", func() bool { return e.h.lim.bodies.inUse() == 0 })
	// Chunked, with no declared length: the endpoint's limit is reserved.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "POST /v1/entries HTTP/1.1\r\nHost: pakta\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n3\r\neyJ\r\n", MediaTypeJOSE)
	waitFor(t, "a chunked body to reserve the limit", func() bool { return e.h.lim.bodies.inUse() == DefaultMaxBodyBytes })
	resp, _ = readResponse(t, c2)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("slow chunked body: %d", resp.StatusCode)
	}
	waitFor(t, "the budget to be given back", func() bool { return e.h.lim.bodies.inUse() == 0 })
}
