"""`make install` into a DESTDIR, and `make uninstall`: the tree a packager or admin gets, the
systemd unit (systemd-analyze verify, its hardening), the sysusers.d file (systemd-sysusers
on a scratch root makes the user), the man pages (they render without warnings, and list
exactly the options `--help` lists).

Env: BH_BUILD (the build folder, already built), BH_SOURCE (the source tree)."""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

BUILD = os.environ["BH_BUILD"]
SOURCE = os.environ.get("BH_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
MANIFEST = os.path.join(BUILD, "install_manifest.txt")

EXPECTED = [
    "bin/hookd", "bin/simboard",
    "share/man/man8/hookd.8", "share/man/man1/simboard.1",
    "lib/systemd/system/hookd.service", "lib/sysusers.d/hookd.conf",
    "share/doc/buttonhook/README.md", "share/doc/buttonhook/docs/guide.md",
    "share/doc/buttonhook/docs/hookd.md", "share/doc/buttonhook/docs/simulated-board.md",
    "share/doc/buttonhook/examples/config.py", "share/doc/buttonhook/examples/world.json",
]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def unit_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")):
                k, _, v = line.partition("=")
                keys.setdefault(k, []).append(v)
    return keys


def options(text):
    """The long options a text names (--data, --for ...)."""
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))


def sections(text):
    """A rendered man page's sections, by heading."""
    out, name = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            name = line
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def man_text(path):
    r = run(["man", "-l", path], env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="",
                                          LC_ALL="C.UTF-8"))
    assert r.returncode == 0, r.stderr
    # plain text: no overstrike, and the hyphens man turns into U+2010 when it breaks lines
    return re.sub(r".\x08", "", r.stdout).replace("\u2010", "-").replace("\u2212", "-")


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bh-install-")
        # the Makefile installs from $(B)/main: point that at this build
        os.makedirs(os.path.join(cls.tmp, "b"))
        os.symlink(BUILD, os.path.join(cls.tmp, "b", "main"))
        cls.saved_manifest = None
        if os.path.exists(MANIFEST):
            with open(MANIFEST) as f:
                cls.saved_manifest = f.read()

    @classmethod
    def tearDownClass(cls):
        if cls.saved_manifest is not None:
            with open(MANIFEST, "w") as f:
                f.write(cls.saved_manifest)
        elif os.path.exists(MANIFEST):
            os.remove(MANIFEST)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def make(self, *args):
        # as a user types it, not as a sub-make of `make check` (its jobserver is not ours)
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS",
                                                                 "MAKELEVEL")}
        r = run(["make", "-C", SOURCE, "--no-print-directory", f"B={self.tmp}/b", *args],
                env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def installed(self, root):
        found = set()
        for d, _, files in os.walk(root):
            for f in files:
                found.add(os.path.relpath(os.path.join(d, f), root))
        return found

    def test_destdir_tree_and_uninstall(self):
        root = os.path.join(self.tmp, "destdir")
        self.make("install-built", f"DESTDIR={root}")
        prefix = root + "/usr/local"
        files = self.installed(prefix)
        self.assertEqual(self.installed(root), {"usr/local/" + f for f in files},
                         "everything goes under DESTDIR/PREFIX")
        for f in EXPECTED:
            self.assertIn(f, files)
        for b in ("hookd", "simboard"):
            mode = os.stat(os.path.join(prefix, "bin", b)).st_mode
            self.assertTrue(mode & stat.S_IXOTH, b + " is executable by all")
        r = run([prefix + "/bin/hookd", "--version"])
        self.assertRegex(r.stdout, r"^hookd \d+\.\d+\.\d+\n$")
        # the unit names the installed program, inside the prefix, not DESTDIR
        keys = unit_keys(prefix + "/lib/systemd/system/hookd.service")
        self.assertEqual(keys["ExecStart"],
                         ["/usr/local/bin/hookd --data /var/lib/hookd --listen 127.0.0.1:8080"])
        print(f"\nfigures: install files={len(files)} (under DESTDIR/usr/local)")

        self.make("uninstall", f"DESTDIR={root}")
        self.assertEqual(self.installed(root), set(), "uninstall leaves no file")

    def test_prefix_usr(self):
        root = os.path.join(self.tmp, "usr-root")
        self.make("install-built", f"DESTDIR={root}", "PREFIX=/usr")
        files = self.installed(root)
        for f in EXPECTED:
            self.assertIn("usr/" + f, files)
        keys = unit_keys(root + "/usr/lib/systemd/system/hookd.service")
        self.assertTrue(keys["ExecStart"][0].startswith("/usr/bin/hookd "))

    def test_unit(self):
        # installed at a real prefix, so that systemd-analyze finds the program it names and,
        # through MANPATH, the man page of Documentation=
        prefix = os.path.join(self.tmp, "prefix")
        r = run(["cmake", "--install", BUILD, "--prefix", prefix])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        unit = prefix + "/lib/systemd/system/hookd.service"
        keys = unit_keys(unit)
        want = {"User": "hookd", "Group": "hookd", "StateDirectory": "hookd",
                "StateDirectoryMode": "0700", "NoNewPrivileges": "yes",
                "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                "CapabilityBoundingSet": "", "Documentation": "man:hookd(8)",
                "WantedBy": "multi-user.target"}
        for k, v in want.items():
            self.assertEqual(keys.get(k), [v], k)
        self.assertEqual(keys["ExecStart"],
                         [prefix + "/bin/hookd --data /var/lib/hookd --listen 127.0.0.1:8080"])
        if shutil.which("systemd-analyze"):
            r = run(["systemd-analyze", "verify", unit],
                    env=dict(os.environ, MANPATH=prefix + "/share/man"))
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
            print("install: systemd-analyze verify hookd.service: clean")
            # the sandbox, scored by systemd itself (0 = fully confined, 10 = not at all)
            r = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit],
                    env=dict(os.environ, MANPATH=prefix + "/share/man"))
            m = re.search(r"Overall exposure level for hookd.service: ([\d.]+)", r.stdout)
            if m:   # older systemd has no --offline
                print(f"\nfigures: install hookd.service exposure={m.group(1)} (of 10, "
                      f"systemd-analyze security)")
                self.assertLessEqual(float(m.group(1)), 2.0)
        else:
            print("install: systemd-analyze not installed; the unit's keys were checked")

        # the user the unit runs as, made by systemd-sysusers from the installed file
        if shutil.which("systemd-sysusers") and os.geteuid() == 0:   # it chowns what it makes
            sysroot = os.path.join(self.tmp, "sysroot")
            os.makedirs(sysroot + "/etc")
            r = run(["systemd-sysusers", "--root", sysroot,
                     prefix + "/lib/sysusers.d/hookd.conf"])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(sysroot + "/etc/passwd") as f:
                user = [line.split(":") for line in f if line.startswith("hookd:")]
            self.assertEqual(len(user), 1)
            self.assertEqual(user[0][5], "/var/lib/hookd")
            self.assertEqual(user[0][6].strip(), "/usr/sbin/nologin")
            with open(sysroot + "/etc/group") as f:
                self.assertTrue(any(line.startswith("hookd:") for line in f))

    def test_man_pages_match_help(self):
        for prog, page in (("hookd", "man/hookd.8"), ("simboard", "man/simboard.1")):
            src = os.path.join(SOURCE, page)
            r = run(["groff", "-man", "-Tutf8", "-ww", "-z", src])
            self.assertEqual((r.returncode, r.stderr), (0, ""), page + " renders cleanly")
            text = man_text(src)
            self.assertIn("NAME", text)
            self.assertIn("SYNOPSIS", text)
            exe = os.path.join(BUILD, "hookd/hookd" if prog == "hookd"
                               else "firmware/ports/sim/simboard")
            r = run([exe, "--help"])
            self.assertEqual(r.returncode, 0)
            # the options the page documents: its synopsis and OPTIONS (other sections may
            # quote other programs' options, e.g. systemctl enable --now)
            sec = sections(text)
            helped, manned = options(r.stdout), options(sec["SYNOPSIS"] + sec["OPTIONS"])
            self.assertTrue(helped)
            self.assertEqual(helped - manned, set(), f"in {prog} --help, not in {page}")
            # -h and --help are the same; the page may say so, --help need not list itself
            self.assertEqual(manned - helped - {"--help"}, set(),
                             f"in {page}, not in {prog} --help")
            # the commands too: every "prog CMD" of the usage is in the page's synopsis
            for cmd in re.findall(rf"^\s*(?:usage:)?\s*{prog} ([a-z]+)", r.stdout, re.M):
                self.assertRegex(text, rf"\b{prog} {cmd}\b", f"{prog} {cmd} in {page}")
            print(f"\nfigures: install {page} options={len(helped)} (as in {prog} --help)")


if __name__ == "__main__":
    unittest.main()
