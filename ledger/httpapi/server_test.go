package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

// serve runs srv on a real listener on 127.0.0.1 until the returned stop
// function is called; stop returns Serve's result.
func serve(t *testing.T, srv *http.Server, grace time.Duration) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln, grace) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				result = errors.New("Serve did not return")
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func TestNewServerSetsTimeouts(t *testing.T) {
	srv := NewServer(":0", http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout != DefaultReadHeaderTimeout || srv.ReadTimeout != DefaultReadTimeout ||
		srv.WriteTimeout != DefaultWriteTimeout || srv.IdleTimeout != DefaultIdleTimeout || srv.ErrorLog == nil {
		t.Fatalf("%+v", srv)
	}
}

// TestSlowClientHitsReadTimeout: a client that stalls while sending its
// headers or its body is cut off after the read timeouts, and the server
// keeps serving others.
func TestSlowClientHitsReadTimeout(t *testing.T) {
	e := newEnv(t, nil, Options{})
	srv := NewServer("", e.h, testLogger(t))
	srv.ReadHeaderTimeout, srv.ReadTimeout = 200*time.Millisecond, 400*time.Millisecond
	url, stop := serve(t, srv, 5*time.Second)
	addr := strings.TrimPrefix(url, "http://")
	_, sizeBefore := e.log.Checkpoint()

	// Headers that never end: the connection is closed without a response.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "POST /v1/entries HTTP/1.1\r\nHost: pakta\r\nContent-Type: application/jose\r\n")
	// The client's own deadline is far: the server must close first (a
	// loaded CI machine may be slow, so no tight upper bound).
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := conn.Read(make([]byte, 1024))
	if elapsed := time.Since(start); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) || elapsed < 150*time.Millisecond {
		t.Fatalf("stalled headers: read %d bytes, %v after %s", n, err, elapsed)
	}

	// A body that stops halfway: 408 once the read timeout passes.
	conn2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	start = time.Now()
	io.WriteString(conn2, "POST /v1/entries HTTP/1.1\r\nHost: pakta\r\nContent-Type: application/jose\r\nContent-Length: 1000\r\n\r\neyJhbGciOi")
	conn2.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	elapsed := time.Since(start)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !bytes.Contains(body, []byte(`"error"`)) {
			t.Fatalf("stalled body: %d %s", resp.StatusCode, body)
		}
		t.Logf("stalled body: %d %s", resp.StatusCode, bytes.TrimSpace(body))
	} else if errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("stalled body: %v", err) // the connection may also just be closed
	}
	if elapsed < 350*time.Millisecond {
		t.Fatalf("stalled body answered after %s", elapsed)
	}

	// Others are still served.
	r, err := http.Get(url + "/checkpoint")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("%v %v", r, err)
	}
	r.Body.Close()
	if _, size := e.log.Checkpoint(); size != sizeBefore {
		t.Fatal("a slow client changed the tree")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestGracefulShutdownUnderLoad: many clients submit concurrently while the
// server shuts down; after the log is reopened, every entry a client was
// told about (201 or 200) is there, byte for byte.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	e := newEnv(t, func(c *ledger.Config) { c.MaxDelay = 10 * time.Millisecond }, Options{})
	const total, workers = 600, 24
	jwss := make(chan []byte, total)
	for i := range total {
		_, raw, _ := ed25519.GenerateKey(rand.Reader)
		key, _ := pledge.NewPrivateKey(raw, "")
		jwss <- e.enrollment(person(i), key)
	}
	close(jwss)

	srv := NewServer("", e.h, testLogger(t))
	url, stop := serve(t, srv, 20*time.Second)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()

	type ack struct {
		index uint64
		jws   []byte
	}
	var (
		mu      sync.Mutex
		acks    []ack
		acked   atomic.Int64
		refused atomic.Int64
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jws := range jwss {
				resp, err := client.Post(url+"/v1/entries", MediaTypeJOSEJSON, bytes.NewReader(jws))
				if err != nil {
					refused.Add(1) // the server has stopped accepting
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Errorf("reading a %d response: %v", resp.StatusCode, err)
					continue
				}
				switch resp.StatusCode {
				case http.StatusCreated, http.StatusOK:
					index, entry := bundleIndex(t, body)
					if !bytes.Equal(jwsOf(t, entry), jws) {
						t.Errorf("entry %d holds another JWS", index)
					}
					mu.Lock()
					acks = append(acks, ack{index, jws})
					mu.Unlock()
					acked.Add(1)
				default:
					t.Errorf("status %d: %s", resp.StatusCode, body)
				}
			}
		}()
	}
	for acked.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	atStop := acked.Load()
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	wg.Wait()
	t.Logf("%d acknowledged (%d of them finished during the shutdown), %d refused after it began", len(acks), int64(len(acks))-atStop, refused.Load())
	if len(acks) == total {
		t.Log("every submission finished before the shutdown: the test did not overlap them")
	}

	if err := e.log.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(context.Background(), e.dir, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, size := l.Checkpoint()
	seen := map[uint64]bool{}
	for _, a := range acks {
		if seen[a.index] {
			t.Fatalf("index %d acknowledged twice", a.index)
		}
		seen[a.index] = true
		if a.index >= size {
			t.Fatalf("acknowledged index %d is past the reopened log's %d entries", a.index, size)
		}
		entry, err := l.Entry(context.Background(), a.index)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(jwsOf(t, entry), a.jws) {
			t.Fatalf("entry %d differs after reopening", a.index)
		}
	}
}
