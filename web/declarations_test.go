package web

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// typecheckDir holds the pinned TypeScript (package.json, package-lock.json) and the
// consumer's tsconfig; scripts/webdeps installs it with npm ci, and `make test` runs that.
const typecheckDir = "typecheck"

// TestDeclarationsMatchProtocolDoc compiles, with the pinned tsc, a consumer's use of
// the package (typecheck/usage.ts, dom.ts) and a check generated from docs/protocol.md:
// every frame with its fields, error code, close code, event type per channel kind and
// notification kind the doc names is declared in static/gigstream.d.ts and nothing
// more, and every JSON example in the doc is a declared frame. Negative controls (the
// same checks with one name added to or removed from the doc) must fail to compile.
func TestDeclarationsMatchProtocolDoc(t *testing.T) {
	tsc := tscPath(t)
	doc := readProtocolDoc(t)
	dir := consumerDir(t)
	files := map[string]string{
		"protocol_doc.ts":     declarationCheck(doc, false),
		"protocol_doc_neg.ts": declarationCheck(doc, true),
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	usage, _ := filepath.Abs(filepath.Join(typecheckDir, "usage.ts"))
	base, _ := filepath.Abs(filepath.Join(typecheckDir, "tsconfig.json"))
	config := fmt.Sprintf(`{"extends": %q, "files": [%q, "protocol_doc.ts", "protocol_doc_neg.ts"]}`, base, usage)
	writeFile(t, filepath.Join(dir, "tsconfig.json"), config)
	runTSC(t, tsc, filepath.Join(dir, "tsconfig.json"), files)
	runTSC(t, tsc, filepath.Join(typecheckDir, "tsconfig.dom.json"), nil)
}

// TestModuleExportsWhatItDeclares imports static/gigstream.js in Node and compares its
// exports with the declarations, and its constants with docs/protocol.md.
func TestModuleExportsWhatItDeclares(t *testing.T) {
	doc := readProtocolDoc(t)
	dts, err := os.ReadFile("static/gigstream.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^export declare (?:const|function|class) (\w+)`).FindAllStringSubmatch(string(dts), -1) {
		declared = append(declared, m[1])
	}
	slices.Sort(declared)
	out, err := exec.Command(nodePath(t), "--input-type=module", "-e", `
		const m = await import('./static/gigstream.js');
		console.log(JSON.stringify({ exports: Object.keys(m).sort(), CloseCodes: m.CloseCodes,
			ErrorCodes: m.ErrorCodes, version: m.PROTOCOL_VERSION, subprotocol: m.SUBPROTOCOL }));`).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Exports     []string
		CloseCodes  map[string]int
		ErrorCodes  map[string]string
		Version     int
		Subprotocol string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	if !slices.Equal(got.Exports, declared) {
		t.Errorf("gigstream.js exports %v, gigstream.d.ts declares %v", got.Exports, declared)
	}
	wantClose := map[string]int{}
	for _, c := range doc.CloseCodes {
		wantClose[constName(c.Name)] = c.Code
	}
	wantErr := map[string]string{}
	for _, c := range doc.ErrorCodes {
		wantErr[constName(c)] = c
	}
	if fmt.Sprint(got.CloseCodes) != fmt.Sprint(wantClose) || fmt.Sprint(got.ErrorCodes) != fmt.Sprint(wantErr) {
		t.Errorf("runtime CloseCodes %v, ErrorCodes %v; the doc has %v, %v", got.CloseCodes, got.ErrorCodes, wantClose, wantErr)
	}
	if got.Version != doc.Version || got.Subprotocol != "gigstream.v"+strconv.Itoa(doc.Version) {
		t.Errorf("PROTOCOL_VERSION %d, SUBPROTOCOL %q; the doc is version %d", got.Version, got.Subprotocol, doc.Version)
	}
}

// TestPackageShipsTheClientOnly packs static/ as npm would: the package holds the
// module, its declarations and package.json, not the chat page.
func TestPackageShipsTheClientOnly(t *testing.T) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not installed: this machine kind ships Node.js 20 with npm")
	}
	cmd := exec.Command(npm, "pack", "--dry-run", "--json", "--ignore-scripts")
	cmd.Dir = "static"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack: %v\n%s", err, out)
	}
	var packs []struct {
		Name  string
		Files []struct{ Path string }
	}
	if err := json.Unmarshal(out, &packs); err != nil || len(packs) != 1 {
		t.Fatalf("npm pack said %s (%v)", out, err)
	}
	var files []string
	for _, f := range packs[0].Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	if want := []string{"gigstream.d.ts", "gigstream.js", "package.json"}; packs[0].Name != "@gigstream/client" || !slices.Equal(files, want) {
		t.Errorf("npm pack: %s with %v, want @gigstream/client with %v", packs[0].Name, files, want)
	}
}

// constName is the JavaScript constant name of a documented name: "going away" is
// GOING_AWAY, "bad_frame" is BAD_FRAME.
func constName(name string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(name)))
}

func nodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: this machine kind ships Node.js 20")
	}
	return node
}

// tscPath is the pinned compiler, installed by scripts/webdeps.
func tscPath(t *testing.T) string {
	t.Helper()
	tsc, _ := filepath.Abs(filepath.Join(typecheckDir, "node_modules", "typescript", "bin", "tsc"))
	if _, err := os.Stat(tsc); err != nil {
		t.Fatalf("TypeScript is not installed in web/%s: run scripts/webdeps (make test does)", typecheckDir)
	}
	return tsc
}

// consumerDir is a temporary ES module project with @gigstream/client installed as a
// link to static/, as `npm install` of the package's folder makes it.
func consumerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	static, _ := filepath.Abs("static")
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "@gigstream"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(static, filepath.Join(dir, "node_modules", "@gigstream", "client")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "package.json"), `{"private": true, "type": "module"}`)
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runTSC compiles a project; on failure it prints tsc's errors and the generated files
// with line numbers.
func runTSC(t *testing.T, tsc, project string, generated map[string]string) {
	t.Helper()
	out, err := exec.Command(nodePath(t), tsc, "-p", project).CombinedOutput()
	if err == nil {
		return
	}
	var listing strings.Builder
	for name, src := range generated {
		fmt.Fprintf(&listing, "---- %s (generated from docs/protocol.md)\n", name)
		for i, line := range strings.Split(src, "\n") {
			fmt.Fprintf(&listing, "%4d  %s\n", i+1, line)
		}
	}
	t.Fatalf("tsc -p %s: %v\n%s\nThe declarations (web/static/gigstream.d.ts) and docs/protocol.md disagree, or the usage does not compile.\n%s",
		project, err, out, listing.String())
}

// declarationCheck is TypeScript that compiles only when gigstream.d.ts declares
// exactly what doc names. Each check is one object literal on one line, typed by the
// declarations: a name the doc has and the declarations lack is an excess property, a
// name they have and the doc lacks a missing one. With negative, every check is made
// with one name added and with one removed, under @ts-expect-error: the file then
// compiles only if each of those is an error, so no check can pass vacuously.
func declarationCheck(doc protocolDoc, negative bool) string {
	var b strings.Builder
	b.WriteString("// Generated by web/declarations_test.go from docs/protocol.md.\n")
	b.WriteString("import type * as GS from '@gigstream/client';\n")
	b.WriteString("import type { CloseCodes, ErrorCodes } from '@gigstream/client';\n")
	b.WriteString("type Op<U, O> = Extract<U, { op: O }>;\n\n")
	n := 0
	check := func(what, typ string, keys []string, value func(string) string) {
		if !negative {
			fmt.Fprintf(&b, "// %s\nexport const c%d: %s = %s;\n", what, n, typ, literal(keys, value))
			n++
			return
		}
		extra := append(slices.Clone(keys), "zz_undocumented")
		if strings.Contains(typ, "CloseCode") {
			extra[len(extra)-1] = "4999"
		}
		fmt.Fprintf(&b, "// %s, one more than documented\n// @ts-expect-error\nexport const c%d: %s = %s;\n", what, n, typ, literal(extra, value))
		fmt.Fprintf(&b, "// %s, one fewer than documented\n// @ts-expect-error\nexport const c%d: %s = %s;\n", what, n+1, typ, literal(keys[1:], value))
		n += 2
	}
	yes := func(string) string { return "true" }
	frames(doc.ServerFrames, "GS.ServerFrame", "server", check)
	frames(doc.ClientFrames, "GS.ClientFrame", "client", check)
	check("error codes", "Record<GS.ErrorCode, true>", doc.ErrorCodes, yes)
	check("error code names", "typeof ErrorCodes", constNames(doc.ErrorCodes), func(k string) string {
		return strconv.Quote(strings.ToLower(k))
	})
	closeCodes(doc.CloseCodes, check)
	events(doc.Events, check)
	check("notification kinds", "Record<GS.NotificationKind, true>", doc.NotificationKinds, yes)
	examples(&b, doc.Examples, negative)
	return b.String()
}

type checkFunc func(what, typ string, keys []string, value func(string) string)

// frames checks the ops of one direction, then each frame's fields.
func frames(fs []docFrame, union, side string, check checkFunc) {
	yes := func(string) string { return "true" }
	var ops []string
	for _, f := range fs {
		ops = append(ops, f.Op)
	}
	check(side+" frame ops", fmt.Sprintf("Record<%s['op'], true>", union), ops, yes)
	for _, f := range fs {
		fields := append([]string{"op"}, f.Fields...)
		check(fmt.Sprintf("fields of the %s frame %s", side, f.Op), fmt.Sprintf("Record<keyof Op<%s, %q>, true>", union, f.Op), fields, yes)
	}
}

// closeCodes checks the codes and the CloseCodes constant's names.
func closeCodes(cs []docCloseCode, check checkFunc) {
	var codes, names []string
	byName := map[string]int{}
	for _, c := range cs {
		codes = append(codes, strconv.Itoa(c.Code))
		names = append(names, constName(c.Name))
		byName[constName(c.Name)] = c.Code
	}
	check("close codes", "Record<GS.CloseCode, true>", codes, func(string) string { return "true" })
	check("close code names", "typeof CloseCodes", names, func(k string) string {
		if code, ok := byName[k]; ok {
			return strconv.Itoa(code)
		}
		return "4999"
	})
}

// events checks each channel kind's event types and the union of all of them.
func events(byKind map[string][]string, check checkFunc) {
	yes := func(string) string { return "true" }
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var all []string
	for _, k := range kinds {
		check("events of "+k+":{id}", fmt.Sprintf("Record<GS.ChannelEventFor<'%s:1'>['type'], true>", k), byKind[k], yes)
		for _, typ := range byKind[k] {
			if !slices.Contains(all, typ) {
				all = append(all, typ)
			}
		}
	}
	check("every product event type", "Record<GS.EventType, true>", all, yes)
}

// examples types each JSON example of the doc as a frame; the negative file adds a
// field the doc never names to one and gives another an op it never names.
func examples(b *strings.Builder, exs []string, negative bool) {
	const frame = "GS.ServerFrame | GS.ClientFrame"
	if negative {
		first := exs[0]
		fmt.Fprintf(b, "// @ts-expect-error\nexport const e0: %s = %s;\n", frame, strings.Replace(first, "{", `{"zz_undocumented":1,`, 1))
		fmt.Fprintf(b, "// @ts-expect-error\nexport const e1: %s = {\"op\":\"zz_undocumented\",\"id\":1};\n", frame)
		return
	}
	for i, ex := range exs {
		fmt.Fprintf(b, "export const e%d: %s = %s;\n", i, frame, ex)
	}
}

func constNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = constName(n)
	}
	return out
}

// literal is a one-line object literal of keys.
func literal(keys []string, value func(string) string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Quote(k) + ": " + value(k)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
