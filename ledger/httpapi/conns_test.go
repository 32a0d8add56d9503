package httpapi

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// servedLimited serves e's handler through a ConnLimiter of max
// connections, with short header timeouts.
func servedLimited(t *testing.T, e *env, max int) (url string, cl *ConnLimiter) {
	t.Helper()
	srv := NewServer("", e.h, testLogger(t))
	srv.ReadHeaderTimeout = 500 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl = LimitConnections(srv, ln, max)
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), cl
}

// TestIdleConnectionsCannotLockOut: far more idle keep-alive connections
// than the cap do not stop a new client from being served: the longest
// idle ones are closed to make room, and the count never passes the cap.
func TestIdleConnectionsCannotLockOut(t *testing.T) {
	e := newEnv(t, nil, Options{})
	const max = 20
	url, cl := servedLimited(t, e, max)
	cl.minIdle = 0 // every idle connection may go at once
	addr := strings.TrimPrefix(url, "http://")
	for i := range 5 * max {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// One request, then the connection stays open, idle.
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: pakta\r\n\r\n")
		readResponse(t, c)
		if n := cl.Open(); n > max {
			t.Fatalf("after %d idle connections: %d open, over the cap of %d", i+1, n, max)
		}
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url + "/checkpoint")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a new client after %d idle connections: %v %v", 5*max, resp, err)
	}
	resp.Body.Close()
	t.Logf("/checkpoint answered in %s with %d idle connections tried, %d open, %d evicted", time.Since(start), 5*max, cl.Open(), cl.evicted.Load())
	if cl.evicted.Load() < 4*max {
		t.Fatalf("evicted %d", cl.evicted.Load())
	}
}

// TestConnectionCapRefuses: when every connection is busy (here: sending
// headers that never end), a new one is answered 503 with Retry-After and a
// JSON error; once the header timeout frees them, new clients are served.
func TestConnectionCapRefuses(t *testing.T) {
	e := newEnv(t, nil, Options{})
	const max = 10
	url, cl := servedLimited(t, e, max)
	addr := strings.TrimPrefix(url, "http://")
	for range max {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /checkpoint HTTP/1.1\r\nHost: pak")
	}
	waitFor(t, "the cap to be reached", func() bool { return cl.Open() == max })
	resp, err := http.Get(url + "/checkpoint")
	if err != nil {
		t.Fatalf("a client over the cap: %v (want a 503, not a reset)", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), `"reason":"connections"`) {
		t.Fatalf("over the cap: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The stalled ones time out (500 ms); then clients are served again.
	waitFor(t, "a client to be served again", func() bool {
		resp, err := http.Get(url + "/checkpoint")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if cl.refused.Load() == 0 {
		t.Fatal("no refusal counted")
	}
}

// TestFreshlyIdleConnectionsAreKept: a connection idle for less than a
// second (a client between two requests) is not closed to make room: the
// new connection is refused instead. Once it has idled longer, it goes.
func TestFreshlyIdleConnectionsAreKept(t *testing.T) {
	e := newEnv(t, nil, Options{})
	url, cl := servedLimited(t, e, 1)
	addr := strings.TrimPrefix(url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: pakta\r\n\r\n")
	readResponse(t, c)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url + "/checkpoint")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("a second connection beside a freshly idle one: %v %v", resp, err)
	}
	resp.Body.Close()
	time.Sleep(cl.minIdle + 100*time.Millisecond)
	resp, err = client.Get(url + "/checkpoint")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a second connection beside one idle for over %s: %v %v", cl.minIdle, resp, err)
	}
	resp.Body.Close()
	if cl.evicted.Load() != 1 {
		t.Fatalf("evicted %d", cl.evicted.Load())
	}
}
