package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freePort returns a loopback port nothing listens on at the time of the call.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// postgresProc is a private PostgreSQL cluster in a temporary folder, so that restarting it
// disturbs nobody else's tests.
type postgresProc struct {
	bin  string // folder of initdb and pg_ctl
	data string
	log  string
	port int
	cred *syscall.Credential // run as this user when we are root (initdb refuses root)
}

// findPGBin finds the folder holding initdb and pg_ctl: pgBin, the PATH, or Debian's layout.
func findPGBin(pgBin string) (string, error) {
	if pgBin != "" {
		return pgBin, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("initdb and pg_ctl not found (install postgresql, or pass --pg-bin)")
}

func startPostgres(ctx context.Context, pgBin string) (*postgresProc, error) {
	bin, err := findPGBin(pgBin)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Its own folder, outside dir: when we are root the server runs as the postgres user, who
	// must be able to reach it (a test's temporary folder is private to root).
	root, err := os.MkdirTemp("", "inlay-loadtest-pg-")
	if err != nil {
		return nil, err
	}
	dir := root
	p := &postgresProc{bin: bin, data: filepath.Join(dir, "pgdata"), log: filepath.Join(dir, "postgres.log"), port: port}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root, and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := p.run(ctx, "initdb", "-D", p.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *postgresProc) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, name), args...)
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	cmd.Dir = filepath.Dir(p.data)
	return cmd.CombinedOutput()
}

func (p *postgresProc) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=200 -c shared_buffers=64MB", p.port, filepath.Dir(p.data))
	if out, err := p.run(ctx, "pg_ctl", "-D", p.data, "-l", p.log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

func (p *postgresProc) stop(ctx context.Context) error {
	if out, err := p.run(ctx, "pg_ctl", "-D", p.data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// remove stops the server and deletes its folder.
func (p *postgresProc) remove() {
	_ = p.stop(context.Background())
	_ = os.RemoveAll(filepath.Dir(p.data))
}

func (p *postgresProc) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// redisProc is a private redis-server without persistence.
type redisProc struct {
	port int
	cmd  *exec.Cmd
}

func startRedis(dir string, port int) (*redisProc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found (apt-get install redis-server)")
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru")
	logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &redisProc{port: port, cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return r, nil
		}
		if time.Now().After(deadline) {
			r.kill()
			return nil, fmt.Errorf("redis-server on port %d did not start", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *redisProc) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisProc) kill() {
	if r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

// replica is one `inlay serve` child process.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startReplica(ctx context.Context, exe string, env []string, project, name, logDir string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(exe, "serve", "--project", project, "--addr", addr)
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &replica{name: name, url: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(r.done) }()
	return r, nil
}

// waitReady polls the replica's discovery document until it answers.
func (r *replica) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-r.done:
			return fmt.Errorf("replica %s exited at start (see %s.log)", r.name, r.name)
		default:
		}
		resp, err := http.Get(r.url + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not ready after %s", r.name, timeout)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// stop asks the replica to shut down (SIGTERM) and waits.
func (r *replica) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// kill9 ends the replica with SIGKILL: no shutdown, buffers lost, as a crashed machine.
func (r *replica) kill9() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// rssBytes reads the replica's resident memory from /proc (0 where unavailable).
func (r *replica) rssBytes() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
