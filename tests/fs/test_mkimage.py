"""bhfs-mkimage: a board's files (config.py, a CA bundle, webrepl_cfg.py) into a flash image of
the portable file system, read back with --list and --extract byte for byte; every refusal
names the file or folder and why.

Env: BHFS_MKIMAGE (the tool), BH_SOURCE (the source tree, for examples/config.py)."""
import os
import random
import subprocess
import tempfile
import unittest

TOOL = os.environ["BHFS_MKIMAGE"]
SOURCE = os.environ.get("BH_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)


def pem(size, seed):
    """a PEM-looking CA bundle of exactly size bytes"""
    rnd = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    lines, n = [], 0
    while n < size:
        line = "".join(rnd.choice(alphabet) for _ in range(64)) + "\n"
        lines.append(line)
        n += len(line)
    return ("".join(lines))[:size].encode()


class MkImage(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "files")
        os.mkdir(self.dir)
        self.image = os.path.join(self.tmp.name, "flash.bin")

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, name, data):
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)

    def board_files(self):
        with open(os.path.join(SOURCE, "examples", "config.py"), "rb") as f:
            files = {"config.py": f.read()}
        files["ca.pem"] = pem(16384, 1)
        files["webrepl_cfg.py"] = b"PASS = 'secret'\n"
        for name, data in files.items():
            self.put(name, data)
        return files

    def test_round_trip(self):
        files = self.board_files()
        r = run("--size", "64K", "--sector", "4096", "-o", self.image, self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 files", r.stdout)
        self.assertEqual(os.path.getsize(self.image), 65536)
        # --list: every file with its size
        r = run("--list", self.image)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = {}
        for line in r.stdout.splitlines()[:-1]:
            size, name = line.split()
            listed[name] = int(size)
        self.assertEqual(listed, {n: len(d) for n, d in files.items()})
        self.assertTrue(r.stdout.splitlines()[-1].startswith("3 files, %d bytes;"
                                                           % sum(map(len, files.values()))))
        # --extract: the same bytes
        out = os.path.join(self.tmp.name, "out")
        r = run("--extract", self.image, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(out)), sorted(files))
        for name, data in files.items():
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
        # the same folder makes the same image
        again = os.path.join(self.tmp.name, "again.bin")
        self.assertEqual(run("--size", "65536", "-o", again, self.dir).returncode, 0)
        with open(self.image, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_big_region_small_sectors(self):
        files = self.board_files()
        r = run("--size", "1M", "--sector", "1024", "-o", self.image, self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.path.getsize(self.image), 1 << 20)
        # the sector size is part of the format: the default does not find it
        r = run("--list", self.image)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no file system", r.stderr)
        r = run("--list", self.image, "--sector", "1K")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), len(files) + 1)

    def refused(self, args, *words):
        r = run(*args)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertFalse(os.path.exists(self.image), "an image was written despite the error")
        return r.stderr

    def test_too_many_files(self):
        for i in range(17):
            self.put("f%02d.txt" % i, b"x")
        self.refused(["--size", "64K", "-o", self.image, self.dir], self.dir, "17 files",
                     "at most 16")

    def test_name_too_long(self):
        self.put("n" * 64, b"x")
        self.refused(["--size", "64K", "-o", self.image, self.dir], "n" * 64,
                     "name too long (64 bytes, at most 63)")

    def test_file_too_big(self):
        self.put("ca.pem", pem(100000, 2))
        self.refused(["--size", "64K", "-o", self.image, self.dir], "ca.pem", "too big",
                     "100000 bytes", "--size")

    def test_files_do_not_fit_together(self):
        for i in range(4):
            self.put("ca%d.pem" % i, pem(15000, i))
        err = self.refused(["--size", "64K", "-o", self.image, self.dir], "do not fit",
                           "--size")
        self.assertIn("ca2.pem", err)   # 2 x 15000 fit in 64 KB, a third does not

    def test_image_too_small(self):
        self.put("config.py", b"x")
        self.refused(["--size", "8K", "-o", self.image, self.dir], "--size", "8192 bytes",
                     "too small", "4 sectors")
        self.refused(["--size", "65000", "-o", self.image, self.dir], "65000 bytes",
                     "whole number of 4096-byte sectors")
        self.refused(["--size", "lots", "-o", self.image, self.dir], "--size lots")

    def test_folder_inside(self):
        os.mkdir(os.path.join(self.dir, "lib"))
        self.refused(["--size", "64K", "-o", self.image, self.dir], "lib",
                     "not a regular file")

    def test_not_an_image(self):
        with open(self.image, "wb") as f:
            f.write(bytes(random.Random(3).getrandbits(8) for _ in range(65536)))
        r = run("--list", self.image)
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.image + ": no file system in it", r.stderr)


if __name__ == "__main__":
    unittest.main()
