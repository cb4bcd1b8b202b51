package deploy

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of the Compose specification compose.yaml uses; decoding with
// KnownFields refuses any other key, so a misspelt one fails here rather than on a host.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image           string            `yaml:"image"`
	Restart         string            `yaml:"restart"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	EnvFile         []string          `yaml:"env_file"`
	Secrets         []string          `yaml:"secrets"`
	Volumes         []string          `yaml:"volumes"`
	Ports           []string          `yaml:"ports"`
	User            string            `yaml:"user"`
	ReadOnly        bool              `yaml:"read_only"`
	Tmpfs           []string          `yaml:"tmpfs"`
	CapDrop         []string          `yaml:"cap_drop"`
	SecurityOpt     []string          `yaml:"security_opt"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Healthcheck     *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

func TestComposeFileIsConsistent(t *testing.T) {
	c, known := loadCompose(t), envKeys(t)
	conditions := map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}
	for name, s := range c.Services {
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":") {
			t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
		}
		for dep, d := range s.DependsOn {
			dependency, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
			case !conditions[d.Condition]:
				t.Errorf("service %s: unknown depends_on condition %q", name, d.Condition)
			case d.Condition == "service_healthy" && dependency.Healthcheck == nil:
				t.Errorf("service %s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
		for _, v := range s.Volumes {
			if vol, _, _ := strings.Cut(v, ":"); !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
				if _, ok := c.Volumes[vol]; !ok {
					t.Errorf("service %s mounts volume %s, which is not declared", name, vol)
				}
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("service %s uses secret %s, which is not declared", name, sec)
			}
		}
	}
	hub, ok := c.Services["gigstream"]
	if !ok {
		t.Fatal("no gigstream service")
	}
	for k := range hub.Environment {
		if !known[k] {
			t.Errorf("gigstream service sets %s, which the binary does not read", k)
		}
	}
	if hub.User != "10001:10001" || !hub.ReadOnly {
		t.Errorf("gigstream runs as %q, read-only %v; want the image's user on a read-only root", hub.User, hub.ReadOnly)
	}
	if hub.DependsOn["migrate"].Condition != "service_completed_successfully" {
		t.Error("gigstream does not wait for the migration to finish")
	}
	if c.Services["migrate"].Image != hub.Image {
		t.Error("migrate and gigstream run different images")
	}
}

func TestComposeEnvExamplesNameRealSettings(t *testing.T) {
	known := envKeys(t)
	raw, err := os.ReadFile("compose/gigstream.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && !known[k] {
			t.Errorf("gigstream.env.example sets %s, which the binary does not read", k)
		}
	}
}
