package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxConns is LimitConnections' cap when max is 0. Each open
// connection costs a goroutine and two buffers (about 20 KiB when idle), so
// a thousand cost tens of MiB; the cap is global, not per client address,
// because hundreds of phones behind one Wi-Fi NAT share an address.
const DefaultMaxConns = 1024

// maxRejecting bounds the goroutines answering refused connections with a
// 503 (each for at most 600 ms, with a 4 KiB buffer: about 12 MiB for
// them all); past it a refused connection is closed without an answer.
const maxRejecting = 1024

// minIdleToEvict is how long a connection must have been idle before it is
// closed to make room: a client that has just been answered is likely to
// send its next request on the same connection, and closing it under
// that request fails a submission that cannot be retried blindly. Idle
// connections an attacker parks age past it and are closed.
const minIdleToEvict = time.Second

// ConnLimiter is a net.Listener that keeps at most a fixed number of
// connections open. At the cap, a new connection first takes the place of
// the connection that has been idle (keep-alive, between requests) the
// longest, if for at least a second, which is closed: parked idle
// connections cannot lock clients out. Otherwise the new connection is
// answered 503 with Retry-After and closed. Make one with
// LimitConnections.
type ConnLimiter struct {
	net.Listener
	max       int
	minIdle   time.Duration // minIdleToEvict; tests shorten it
	refusal   []byte
	rejecting chan struct{}

	mu   sync.Mutex
	open int
	idle map[*limitedConn]time.Time // idle connections and since when

	refused, evicted atomic.Int64
}

// LimitConnections returns ln limited to max open connections (0 means
// DefaultMaxConns), and hooks srv.ConnState (keeping any hook already set)
// to know which connections are idle. Serve srv on the returned listener.
func LimitConnections(srv *http.Server, ln net.Listener, max int) *ConnLimiter {
	if max <= 0 {
		max = DefaultMaxConns
	}
	body := fmt.Sprintf(`{"error":"the server has as many connections open as it allows (%d): retry shortly","detail":{"reason":"connections","max_connections":%d,"retry_after_seconds":1}}`+"\n", max, max)
	l := &ConnLimiter{
		Listener:  ln,
		max:       max,
		minIdle:   minIdleToEvict,
		rejecting: make(chan struct{}, maxRejecting),
		idle:      make(map[*limitedConn]time.Time),
		refusal: fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"+
			"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body),
	}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if lc, ok := c.(*limitedConn); ok {
			l.track(lc, s)
		}
		if prev != nil {
			prev(c, s)
		}
	}
	return l
}

// Accept returns the next connection, making room for it or refusing it
// when the limiter is at its cap.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		var oldest *limitedConn
		if l.open >= l.max {
			for ic, since := range l.idle {
				if oldest == nil || since.Before(l.idle[oldest]) {
					oldest = ic
				}
			}
			if oldest != nil && time.Since(l.idle[oldest]) < l.minIdle {
				oldest = nil
			}
			if oldest == nil {
				l.mu.Unlock()
				l.refuse(c)
				continue
			}
			// Its place is released now, not when the server notices it
			// closed, so that the count never exceeds the cap.
			delete(l.idle, oldest)
			oldest.released.Store(true)
			l.evicted.Add(1)
		} else {
			l.open++
		}
		l.mu.Unlock()
		if oldest != nil {
			oldest.Conn.Close()
		}
		return &limitedConn{Conn: c, l: l}, nil
	}
}

// refuse answers c with a 503 and closes it. The answer is written once
// the request begins, and the rest of it drained for a moment before
// closing, so that the client reads the 503 rather than a connection reset.
func (l *ConnLimiter) refuse(c net.Conn) {
	l.refused.Add(1)
	select {
	case l.rejecting <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.rejecting }()
		defer c.Close()
		// Wait for the request to begin: an HTTP client that reads an
		// answer before it has sent anything takes it for a broken
		// connection, not for a 503.
		buf := make([]byte, 4096)
		c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			return
		}
		if _, err := c.Write(l.refusal); err != nil {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for range 16 {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
}

func (l *ConnLimiter) track(c *limitedConn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle && !c.released.Load() {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
}

func (l *ConnLimiter) release(c *limitedConn) {
	l.mu.Lock()
	delete(l.idle, c)
	l.open--
	l.mu.Unlock()
}

// Open is the number of connections open now (at most the cap).
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Collectors returns the limiter's metrics, for the binary to register:
// pakta_http_connections (open now), pakta_http_connections_max,
// pakta_http_connections_refused_total (answered 503 at the cap) and
// pakta_http_connections_evicted_total (idle ones closed to make room).
func (l *ConnLimiter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pakta_http_connections",
			Help: "HTTP connections open now."}, func() float64 { return float64(l.Open()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pakta_http_connections_max",
			Help: "The cap on open HTTP connections."}, func() float64 { return float64(l.max) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pakta_http_connections_refused_total",
			Help: "Connections answered 503 and closed because the cap was reached and none was idle."},
			func() float64 { return float64(l.refused.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pakta_http_connections_evicted_total",
			Help: "Idle keep-alive connections closed to make room for new ones at the cap."},
			func() float64 { return float64(l.evicted.Load()) }),
	}
}

// limitedConn gives its place back once, when it is closed (by the server,
// a handler that hijacked it, or the limiter evicting it).
type limitedConn struct {
	net.Conn
	l        *ConnLimiter
	released atomic.Bool
	once     sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if !c.released.Swap(true) {
			c.l.release(c)
		}
	})
	return err
}
