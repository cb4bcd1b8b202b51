package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// manifests are the decoded objects of deploy/k8s, by kind.
type manifests struct {
	deployments []appsv1.Deployment
	services    []corev1.Service
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	pdbs        []policyv1.PodDisruptionBudget
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	policies    []networkingv1.NetworkPolicy
	jobs        []batchv1.Job
}

// decodeStrict decodes one YAML document into v, refusing unknown or duplicate fields,
// the way `kubectl apply --validate=strict` would.
func decodeStrict[T any](doc []byte, add func(T)) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	add(v)
	return nil
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return decodeStrict(doc, func(v appsv1.Deployment) { m.deployments = append(m.deployments, v) })
	case "v1 Service":
		return decodeStrict(doc, func(v corev1.Service) { m.services = append(m.services, v) })
	case "v1 ConfigMap":
		return decodeStrict(doc, func(v corev1.ConfigMap) { m.configMaps = append(m.configMaps, v) })
	case "v1 Secret":
		return decodeStrict(doc, func(v corev1.Secret) { m.secrets = append(m.secrets, v) })
	case "policy/v1 PodDisruptionBudget":
		return decodeStrict(doc, func(v policyv1.PodDisruptionBudget) { m.pdbs = append(m.pdbs, v) })
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeStrict(doc, func(v autoscalingv2.HorizontalPodAutoscaler) { m.hpas = append(m.hpas, v) })
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeStrict(doc, func(v networkingv1.NetworkPolicy) { m.policies = append(m.policies, v) })
	case "batch/v1 Job":
		return decodeStrict(doc, func(v batchv1.Job) { m.jobs = append(m.jobs, v) })
	}
	return fmt.Errorf("unknown apiVersion/kind %q %q", tm.APIVersion, tm.Kind)
}

// loadManifests decodes every document of every deploy/k8s/*.yaml file strictly.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s (%v)", err)
	}
	m := &manifests{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	counts := map[string]int{
		"Deployment": len(m.deployments), "Service": len(m.services), "ConfigMap": len(m.configMaps),
		"Secret": len(m.secrets), "PodDisruptionBudget": len(m.pdbs), "HorizontalPodAutoscaler": len(m.hpas),
		"NetworkPolicy": len(m.policies), "Job": len(m.jobs),
	}
	for kind, n := range counts {
		if n != 1 {
			t.Errorf("%d objects of kind %s, want 1", n, kind)
		}
	}
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 3\n")
	if err := (&manifests{}).add(doc); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("a misspelt field was accepted: %v", err)
	}
}

// envKeys are the variables .env.example documents: the only ones the binary reads.
func envKeys(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]bool{}
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]+)=`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			keys[m[1]] = true
		}
	}
	return keys
}

func TestConfigAndSecretsNameRealSettings(t *testing.T) {
	m, known := loadManifests(t), envKeys(t)
	for _, cm := range m.configMaps {
		for k := range cm.Data {
			if !known[k] {
				t.Errorf("ConfigMap %s sets %s, which the binary does not read", cm.Name, k)
			}
		}
	}
	for _, s := range m.secrets {
		for k := range s.StringData {
			if !known[k] {
				t.Errorf("Secret %s sets %s, which the binary does not read", s.Name, k)
			}
		}
		for _, secret := range []string{"DATABASE_URL", "STRIPE_SECRET_KEY", "METRICS_TOKEN"} {
			if _, ok := s.StringData[secret]; !ok {
				t.Errorf("Secret %s lacks %s", s.Name, secret)
			}
		}
		for _, cm := range m.configMaps {
			for k := range cm.Data {
				if _, ok := s.StringData[k]; ok {
					t.Errorf("%s is set both in ConfigMap %s and Secret %s", k, cm.Name, s.Name)
				}
			}
		}
	}
}

func TestDeploymentProbesDrainAndRunsAsTheImageUser(t *testing.T) {
	m := loadManifests(t)
	d := m.deployments[0]
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe is not GET /readyz: %+v", c.ReadinessProbe)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe is not GET /healthz (it must not depend on Postgres or Redis): %+v", c.LivenessProbe)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("a rollout may take a pod away before its replacement is ready: %+v", ru)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop pause: the pod would get SIGTERM while still in the Service's endpoints")
	}
	shutdown := m.configMaps[0].Data["SHUTDOWN_TIMEOUT"]
	var secs int64
	if _, err := fmt.Sscanf(shutdown, "%ds", &secs); err != nil {
		t.Fatalf("SHUTDOWN_TIMEOUT %q is not whole seconds", shutdown)
	}
	if grace := *pod.TerminationGracePeriodSeconds; grace <= c.Lifecycle.PreStop.Sleep.Seconds+secs {
		t.Errorf("terminationGracePeriodSeconds %d leaves no time for preStop %ds + SHUTDOWN_TIMEOUT %ds",
			grace, c.Lifecycle.PreStop.Sleep.Seconds, secs)
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != imageUID(t) || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("pod does not run as the image's user %d: %+v", imageUID(t), sc)
	}
	if csc := c.SecurityContext; csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("container may write its root file system or escalate: %+v", csc)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == "/tmp" }) {
		t.Error("no writable /tmp for the video jobs on a read-only root")
	}
}

// imageUID is the numeric user the Dockerfile's final stage runs as.
func imageUID(t *testing.T) int64 {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER (\d+)`).FindAllSubmatch(raw, -1)
	if len(m) == 0 {
		t.Fatal("the Dockerfile sets no numeric USER")
	}
	var uid int64
	fmt.Sscan(string(m[len(m)-1][1]), &uid)
	return uid
}

func TestSelectorsAndReferencesAgree(t *testing.T) {
	m := loadManifests(t)
	d := m.deployments[0]
	podLabels := d.Spec.Template.Labels
	matches := func(what string, sel map[string]string) {
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%s, which the Deployment's pods do not carry", what, k, v)
			}
		}
		if len(sel) == 0 {
			t.Errorf("%s selects nothing", what)
		}
	}
	matches("Deployment", d.Spec.Selector.MatchLabels)
	matches("Service", m.services[0].Spec.Selector)
	matches("PodDisruptionBudget", m.pdbs[0].Spec.Selector.MatchLabels)
	matches("NetworkPolicy", m.policies[0].Spec.PodSelector.MatchLabels)

	ports := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		ports[p.Name] = true
	}
	for _, p := range m.services[0].Spec.Ports {
		if !ports[p.TargetPort.String()] {
			t.Errorf("Service port %s targets %s, which the container does not name", p.Name, p.TargetPort.String())
		}
	}
	if ref := m.hpas[0].Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HPA scales %s/%s, not the Deployment %s", ref.Kind, ref.Name, d.Name)
	}
	if min := int(*m.hpas[0].Spec.MinReplicas); min <= m.pdbs[0].Spec.MaxUnavailable.IntValue() {
		t.Errorf("HPA minReplicas %d lets the PDB take every pod", min)
	}
	for _, spec := range []corev1.PodSpec{d.Spec.Template.Spec, m.jobs[0].Spec.Template.Spec} {
		for _, from := range spec.Containers[0].EnvFrom {
			switch {
			case from.ConfigMapRef != nil && from.ConfigMapRef.Name != m.configMaps[0].Name:
				t.Errorf("envFrom names ConfigMap %s, not %s", from.ConfigMapRef.Name, m.configMaps[0].Name)
			case from.SecretRef != nil && from.SecretRef.Name != m.secrets[0].Name:
				t.Errorf("envFrom names Secret %s, not %s", from.SecretRef.Name, m.secrets[0].Name)
			}
		}
		if spec.Containers[0].Image != d.Spec.Template.Spec.Containers[0].Image {
			t.Error("the migration Job and the Deployment run different images")
		}
	}
}
