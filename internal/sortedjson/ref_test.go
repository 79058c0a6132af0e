package sortedjson_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/testenv"
	. "github.com/paykit-go/paykit/webhook"
)

// Helpers that run JovePay's three reference signers (testdata/sortedjson/reference, copied
// unmodified from JovePay's documentation) so tests can compare our canonical forms with them.
//
// Spawning three interpreters per document would take minutes, so the differential test uses
// one batch process per language. The batch programs are generated from the reference
// scripts: the algorithm (sortObject / tksort and the parse-sort-serialize-HMAC lines) is
// extracted from each script verbatim; only the I/O around it differs. TestSortedJSON
// ReferenceScripts then runs a sample through the unmodified scripts to check the batch
// drivers against them.

const refDir = "testdata/sortedjson/reference"

// refLang is one reference program.
type refLang struct {
	form   SortedJSONForm
	tool   string // interpreter
	script string // file in refDir
}

var refLangs = []refLang{
	{FormNode, "node", "sign.js"},
	{FormPHP, "php", "sign.php"},
	{FormPython, "python3", "sign.py"},
}

// refCase is a body and the secret passed to the reference program. Reject is set for
// bodies we refuse on purpose (the reason ErrInvalidPayload must carry).
type refCase struct {
	Secret string
	Body   []byte
	Reject string
}

// refResult is what a reference program did with one case.
type refResult struct {
	OK        bool   // the program printed a canonical text and a signature
	Canonical []byte // the text it hashed
	Signature string // its hex digest
	Err       string // why it failed, when it did
}

// requireReferenceTools skips the test when an interpreter is missing, or fails it where
// external tools are required (CI installs all three).
func requireReferenceTools(t testing.TB) {
	t.Helper()
	for _, l := range refLangs {
		testenv.LookPath(t, l.tool, "apt-get install php-cli nodejs python3")
	}
}

// interpreter returns the program to run for tool. python3 is resolved to the real binary:
// version-manager shims (pyenv) triple its start-up time, which adds up over many spawns.
func interpreter(tool string) string {
	if tool != "python3" {
		return tool
	}
	out, err := exec.Command(tool, "-c", "import sys; print(sys.executable)").Output()
	if p := strings.TrimSpace(string(out)); err == nil && p != "" {
		return p
	}
	return tool
}

func refEnv() []string {
	// Python reads stdin with the locale's encoding; the references assume UTF-8.
	return append(os.Environ(), "PYTHONIOENCODING=utf-8", "PYTHONUTF8=1", "LC_ALL=C.UTF-8")
}

// extract returns the single match of re in src, failing when the script no longer has it.
func extract(t testing.TB, script, src string, re *regexp.Regexp) string {
	t.Helper()
	m := re.FindAllString(src, -1)
	require.Len(t, m, 1, "%s: expected exactly one match of %s, found %d: has the reference script changed?", script, re, len(m))
	return m[0]
}

// replaceOnce replaces old with new exactly once.
func replaceOnce(t testing.TB, script, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "%s: expected %q exactly once in %q", script, old, s)
	return strings.Replace(s, old, new, 1)
}

// batchProgram builds the batch driver for l: it reads lines "<base64 secret> <base64 body>"
// and prints one JSON object per line: {"ok":true,"c":<base64 canonical>,"h":<hex>} or
// {"ok":false,"e":<error>}.
func batchProgram(t testing.TB, l refLang) string {
	t.Helper()
	srcBytes, err := os.ReadFile(filepath.Join(refDir, l.script))
	require.NoError(t, err)
	src := string(srcBytes)
	switch l.form {
	case FormNode:
		fn := extract(t, l.script, src, regexp.MustCompile(`(?s)function sortObject\(obj\) \{\n.*?\n\}\n`))
		core := extract(t, l.script, src, regexp.MustCompile(`(?s)const params = JSON\.parse\(body\);\n.*?hmac\.update\(canonical\);\n`))
		core = replaceOnce(t, l.script, core, "process.argv[2]", "secretArg")
		return "const crypto = require('crypto');\n" + fn + `
function signOne(body, secretArg) {
` + core + `  return [canonical, hmac.digest('hex')];
}
const out = [];
for (const line of require('fs').readFileSync(0, 'utf8').split('\n')) {
  if (!line) continue;
  const [s64, b64] = line.split(' ');
  try {
    const [canonical, hex] = signOne(Buffer.from(b64, 'base64').toString('utf8'),
                                     Buffer.from(s64, 'base64').toString('utf8'));
    out.push(JSON.stringify({ok: true, c: Buffer.from(canonical, 'utf8').toString('base64'), h: hex}));
  } catch (e) {
    out.push(JSON.stringify({ok: false, e: String(e)}));
  }
}
process.stdout.write(out.join('\n') + '\n');
`
	case FormPHP:
		fn := extract(t, l.script, src, regexp.MustCompile(`(?s)function tksort\(&\$array\) \{\n.*?\n\}\n`))
		core := extract(t, l.script, src, regexp.MustCompile(`(?s)\$request_data = json_decode\(\$request_json, true\);\n.*?JSON_UNESCAPED_SLASHES\);\n`))
		mac := extract(t, l.script, src, regexp.MustCompile(`hash_hmac\("sha512", \$sorted_request_json, trim\(\$argv\[1\]\)\)`))
		mac = replaceOnce(t, l.script, mac, "$argv[1]", "$secret_arg")
		return "<?php\n" + fn + `
function sign_one($request_json, $secret_arg) {
` + core + `    return [$sorted_request_json, ` + mac + `];
}
while (($line = fgets(STDIN)) !== false) {
    $line = rtrim($line, "\n");
    if ($line === '') continue;
    [$s64, $b64] = explode(' ', $line);
    try {
        [$canonical, $hex] = sign_one(base64_decode($b64), base64_decode($s64));
        // Like sign.php: a failed json_encode (false) is echoed, and signed, as "".
        echo json_encode(["ok" => true, "c" => base64_encode((string)$canonical), "h" => $hex]), "\n";
    } catch (Throwable $e) {
        echo json_encode(["ok" => false, "e" => get_class($e) . ": " . $e->getMessage()]), "\n";
    }
}
`
	default:
		load := extract(t, l.script, src, regexp.MustCompile(`message = json\.loads\(sys\.stdin\.read\(\)\)\n`))
		load = replaceOnce(t, l.script, load, "sys.stdin.read()", "body")
		dump := extract(t, l.script, src, regexp.MustCompile(`sorted_msg = json\.dumps\(.*\)\n`))
		mac := extract(t, l.script, src, regexp.MustCompile(`digest = hmac\.new\(.*\)\n`))
		mac = replaceOnce(t, l.script, mac, "sys.argv[1]", "secret_arg")
		return `import base64, hashlib, hmac, json, sys

def sign_one(body, secret_arg):
    ` + load + `    ` + dump + `    ` + mac + `    return sorted_msg, digest.hexdigest()

for line in sys.stdin:
    line = line.rstrip('\n')
    if not line:
        continue
    s64, b64 = line.split(' ')
    try:
        canonical, hexdigest = sign_one(base64.b64decode(b64).decode('utf-8'), base64.b64decode(s64).decode('utf-8'))
        print(json.dumps({"ok": True, "c": base64.b64encode(canonical.encode()).decode(), "h": hexdigest}))
    except Exception as e:
        print(json.dumps({"ok": False, "e": type(e).__name__ + ": " + str(e)}))
`
	}
}

// runBatch runs the batch driver for l over cases.
func runBatch(t testing.TB, l refLang, cases []refCase) []refResult {
	t.Helper()
	ext := filepath.Ext(l.script)
	prog := filepath.Join(t.TempDir(), "batch"+ext)
	require.NoError(t, os.WriteFile(prog, []byte(batchProgram(t, l)), 0o644))
	var in bytes.Buffer
	for _, c := range cases {
		in.WriteString(base64.StdEncoding.EncodeToString([]byte(c.Secret)))
		in.WriteByte(' ')
		in.WriteString(base64.StdEncoding.EncodeToString(c.Body))
		in.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter(l.tool), prog)
	cmd.Env = refEnv()
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s batch driver:\n%s", l.tool, stderr.String())
	results := make([]refResult, 0, len(cases))
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			OK bool   `json:"ok"`
			C  string `json:"c"`
			H  string `json:"h"`
			E  string `json:"e"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "%s batch driver printed %q", l.tool, sc.Text())
		c, err := base64.StdEncoding.DecodeString(line.C)
		require.NoError(t, err)
		results = append(results, refResult{OK: line.OK, Canonical: c, Signature: line.H, Err: line.E})
	}
	require.Len(t, results, len(cases), "%s batch driver answered %d of the cases\n%s", l.tool, len(results), stderr.String())
	return results
}

// runAllBatches runs the three batch drivers concurrently; results are indexed by form.
func runAllBatches(t testing.TB, cases []refCase) map[SortedJSONForm][]refResult {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	res := make(map[SortedJSONForm][]refResult)
	for _, l := range refLangs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := runBatch(t, l, cases)
			mu.Lock()
			res[l.form] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res
}

// runScript runs the unmodified reference script for l once, with interpreter prog.
func runScript(ctx context.Context, prog string, l refLang, c refCase) (refResult, error) {
	cmd := exec.CommandContext(ctx, prog, filepath.Join(refDir, l.script), c.Secret)
	cmd.Env = refEnv()
	cmd.Stdin = bytes.NewReader(c.Body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		msg := strings.TrimSpace(stderr.String() + stdout.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return refResult{Err: fmt.Sprintf("exit %d: %s", exit.ExitCode(), msg)}, nil
	}
	if err != nil {
		return refResult{}, err
	}
	out := strings.TrimSuffix(stdout.String(), "\n")
	i := strings.LastIndexByte(out, '\n')
	if i < 0 {
		return refResult{}, fmt.Errorf("%s printed %q", l.script, out)
	}
	return refResult{OK: true, Canonical: []byte(out[:i]), Signature: out[i+1:]}, nil
}

// toolVersions reports the interpreter versions, for the vectors file and failure messages.
func toolVersions() map[string]string {
	v := map[string]string{}
	for _, c := range [][]string{{"node", "--version"}, {"php", "-r", "echo PHP_VERSION;"}, {"python3", "-c", "import sys; print(sys.version.split()[0])"}} {
		out, err := exec.Command(c[0], c[1:]...).Output()
		if err == nil {
			v[c[0]] = strings.TrimSpace(string(out))
		}
	}
	return v
}
