// Package deploy holds no code: it is the home of the hub's deployment files (Kubernetes
// manifests in k8s/, a single-host compose file in compose/, Prometheus alert rules in
// prometheus/, a Grafana dashboard in grafana/, the image's rootfs script in image/). Its
// tests check them: manifests decode strictly into the Kubernetes API types and agree
// with each other, the compose file names real settings, promtool checks and unit-tests
// the rules.
package deploy
