// Package redistest gives tests the Redis named by INLAY_TEST_REDIS_URL, or a private
// redis-server they can stop and start.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvURL names the variable holding the test Redis URL.
const EnvURL = "INLAY_TEST_REDIS_URL"

// URL returns INLAY_TEST_REDIS_URL, skipping the test when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip(EnvURL + " is not set: set it to a Redis URL (e.g. redis://127.0.0.1:6379/9) to run this test")
	}
	return u
}

// Server is a redis-server child process on a loopback port, without persistence.
type Server struct {
	Port int
	dir  string
	cmd  *exec.Cmd
}

// FreePort returns a loopback port nothing listens on (at the time of the call).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts redis-server on a free port (or port, when non-zero) with its files in dir.
func Start(dir string, port int) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed: %w", err)
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "yes", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("redis-server on port %d exited at start", port)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("redis-server on port %d did not start", port)
	}
	return &Server{Port: port, dir: dir, cmd: cmd}, nil
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Kill stops the server at once (SIGKILL) and waits for it.
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// StartT starts a private server for t, skipping when redis-server is not installed, and kills
// it when the test ends.
func StartT(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	s, err := Start(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}
