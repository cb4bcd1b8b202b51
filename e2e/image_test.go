package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/store/storetest"
)

// imageSizeBudget is the most the image may weigh (uncompressed layers). It is about
// 314 MB: 250 MB of ffmpeg and its libraries, 64 MB of gigstream. A Debian-slim base
// with ffmpeg installed by apt would be some 830 MB.
const imageSizeBudget = 400_000_000

// imageConfig is the part of `podman image inspect` the test runs the image by.
type imageConfig struct {
	Size   int64
	Config struct {
		User       string
		Env        []string
		Entrypoint []string
		Cmd        []string
		WorkingDir string
	}
	HealthCheck *struct{ Test []string }
}

// TestImageServesFromItsOwnFileSystem builds the Dockerfile (scripts/image: local bases,
// no registry), exports the image's file system and runs it the way a container runtime
// would, as far as this machine allows (crun cannot create containers here): a private
// mount namespace with /dev and /proc, chroot into the image, the image's user, Env,
// Entrypoint and working directory. The node must become ready against the devstack.
func TestImageServesFromItsOwnFileSystem(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(root))
	tag := "localhost/gigstream:test-" + hex.EncodeToString(sum[:4])
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, filepath.Join(root, "scripts/image"), "build", tag)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image build: %v\n%s", err, out)
	}
	cfg := inspectImage(t, tag)
	t.Logf("image %s: %.0f MB", tag, float64(cfg.Size)/1e6)
	if cfg.Size > imageSizeBudget {
		t.Errorf("image is %d bytes, over the budget of %d", cfg.Size, imageSizeBudget)
	}
	uid := imageUser(t, cfg.Config.User)
	if cfg.HealthCheck == nil || !slicesEqual(cfg.HealthCheck.Test, []string{"CMD", "/usr/local/bin/gigstream", "healthcheck"}) {
		t.Errorf("health check %+v, want the binary's own healthcheck", cfg.HealthCheck)
	}

	rootfs := t.TempDir()
	if out, err := exec.Command(filepath.Join(root, "scripts/image"), "export", tag, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("scripts/image export: %v\n%s", err, out)
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "usr/bin/apt-get"} {
		if _, err := os.Lstat(filepath.Join(rootfs, shell)); err == nil {
			t.Errorf("the image holds /%s; it should hold no shell or package manager", shell)
		}
	}
	env := Env(imageEnv(cfg.Config.Env, map[string]string{
		"DATABASE_URL": storetest.NewDatabase(t), "HTTP_ADDR": "127.0.0.1:0",
	}))
	inImage := func(args ...string) *exec.Cmd {
		return chrootCommand(rootfs, cfg.Config.User, cfg.Config.WorkingDir, args...)
	}
	entry := append(cfg.Config.Entrypoint[:len(cfg.Config.Entrypoint):len(cfg.Config.Entrypoint)], "migrate", "up")
	if out, err := runIn(ctx, inImage(entry...), env); err != nil {
		t.Fatalf("migrate up inside the image: %v\n%s", err, out)
	}
	// The video jobs' tools: an H.264 clip as the jobs make it, then probed.
	if out, err := runIn(ctx, inImage("ffmpeg", "-hide_banner", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y", "/tmp/clip.mp4"), env); err != nil {
		t.Fatalf("ffmpeg inside the image: %v\n%s", err, out)
	}
	if out, err := runIn(ctx, inImage("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "/tmp/clip.mp4"), env); err != nil || strings.TrimSpace(string(out)) != "h264" {
		t.Fatalf("ffprobe inside the image: %v: %q", err, out)
	}

	node := StartCommand(t, inImage(append(cfg.Config.Entrypoint, cfg.Config.Cmd...)...), env)
	node.WaitReady(t)
	if got := processUID(t, node.cmd.Process.Pid); got != uid {
		t.Errorf("the node runs as uid %d, want the image's %d", got, uid)
	}
	health := Env(imageEnv(cfg.Config.Env, map[string]string{"HTTP_ADDR": strings.TrimPrefix(node.URL, "http://")}))
	if out, err := runIn(ctx, inImage(cfg.HealthCheck.Test[1:]...), health); err != nil {
		t.Errorf("the image's health check failed against a ready node: %v\n%s", err, out)
	}
}

// chrootCommand runs args inside rootfs as a container runtime would: its own mount
// namespace (so nothing leaks to the host and the mounts vanish with the process), the
// host's /dev, a fresh /proc, then chroot, the image's working directory and its user
// (uid:gid). bash and both unshares exec the next, so the command's pid is the program's.
func chrootCommand(rootfs, user, workdir string, args ...string) *exec.Cmd {
	uid, gid, _ := strings.Cut(user, ":")
	script := `mount --bind /dev "$0/dev" && mount -t proc proc "$0/proc" && ` +
		`exec /usr/bin/unshare --root="$0" --wd="$1" --setuid="$2" --setgid="$3" -- "${@:4}"`
	// The image has no shell: only the host's bash runs, before the chroot.
	return exec.Command("/usr/bin/unshare", append([]string{"--mount", "--propagation", "private",
		"/bin/bash", "-c", script, rootfs, workdir, uid, gid}, args...)...)
}

// runIn runs cmd to its end with env and returns its combined output.
func runIn(ctx context.Context, cmd *exec.Cmd, env []string) ([]byte, error) {
	cmd.Env = env
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	return cmd.CombinedOutput()
}

func inspectImage(t *testing.T, tag string) imageConfig {
	t.Helper()
	out, err := exec.Command("podman", "image", "inspect", tag).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var cfgs []imageConfig
	if err := json.Unmarshal(out, &cfgs); err != nil || len(cfgs) != 1 {
		t.Fatalf("podman image inspect: %v: %s", err, out)
	}
	return cfgs[0]
}

// imageUser checks the image's USER is a numeric, non-root uid:gid and returns the uid.
func imageUser(t *testing.T, user string) int {
	t.Helper()
	uid, err := strconv.Atoi(strings.SplitN(user, ":", 2)[0])
	if err != nil || uid == 0 {
		t.Fatalf("image USER %q is not a numeric non-root uid (Kubernetes' runAsNonRoot needs one)", user)
	}
	return uid
}

// imageEnv is the image's environment with the test's settings on top.
func imageEnv(image []string, overrides map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range image {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range overrides {
		env[k] = v
	}
	return env
}

// processUID reads the real uid of a running process.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return -1
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
