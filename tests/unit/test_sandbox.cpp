// The code-execution sandbox (sandbox/sandbox.h): what a program may and may not do, and that the
// harness survives whatever it does. Timeouts are kept at 1-2 s so the file runs in a few seconds.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "sandbox/sandbox.h"
#include "tests/support/temp_dir.h"

using namespace gemma::sandbox;
namespace fs = std::filesystem;

namespace {

SandboxLimits quick(double timeout_seconds = 2.0) {
  SandboxLimits limits;
  limits.timeout_seconds = timeout_seconds;
  return limits;
}

// Processes on this host whose command line holds `marker`. Counting by marker (not by the sandbox uid)
// keeps the check exact while other tests run sandboxes in parallel (ctest -j).
int processes_with(const std::string& marker) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

// The processes a timed-out namespace held are killed by the kernel; give their exit a moment.
int survivors(const std::string& marker) {
  for (int i = 0; i < 40 && processes_with(marker) > 0; ++i) ::usleep(50 * 1000);
  return processes_with(marker);
}

// A program that first runs a copy of itself with `marker` among its arguments (and checks that it
// succeeded), so that the copy and everything it forks carry the marker in /proc/<pid>/cmdline.
std::string marked(const std::string& marker, const std::string& body) {
  std::string indented;
  for (size_t start = 0; start < body.size();) {
    const size_t end = body.find('\n', start);
    const size_t stop = end == std::string::npos ? body.size() : end + 1;
    indented += "    " + body.substr(start, stop - start);
    start = stop;
  }
  return "import os, subprocess, sys\n"
         "if len(sys.argv) < 2:\n"
         "    assert subprocess.call([sys.executable, '-B', os.path.abspath(__file__), '" +
         marker +
         "']) == 0\n"
         "else:\n" +
         indented;
}

// The text of a program's stdout split into lines.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("sandbox: a passing program and a failing assert", "[sandbox]") {
  const SandboxResult ok = run_python_sandboxed("print('hello')\n", quick());
  INFO(ok.error << ok.stderr_tail);
  CHECK(ok.status == SandboxStatus::Passed);
  CHECK(ok.exit_code == 0);
  CHECK(ok.stdout_tail == "hello\n");
  CHECK(python_program_passes("assert sum([1, 2]) == 3\n", quick()));

  const SandboxResult bad = run_python_sandboxed("def f():\n    return 1\nassert f() == 2\n", quick());
  CHECK(bad.status == SandboxStatus::Failed);
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.stderr_tail, Catch::Contains("AssertionError"));
  CHECK_FALSE(python_program_passes("raise SystemExit(3)\n", quick()));
  CHECK(run_python_sandboxed("import sys; sys.exit(3)\n", quick()).exit_code == 3);
}

TEST_CASE("sandbox: the program runs unprivileged in a fresh PID namespace", "[sandbox]") {
  const SandboxResult r = run_python_sandboxed("import os\nprint(os.getpid(), os.getuid() == 0)\n", quick());
  INFO(r.error << r.stderr_tail);
  REQUIRE(r.status == SandboxStatus::Passed);
  // PID 2: the namespace's init is 1. Root outside becomes nobody inside.
  CHECK(r.stdout_tail == (::geteuid() == 0 ? "2 False\n" : "2 True\n"));
}

TEST_CASE("sandbox: an infinite loop times out on time", "[sandbox]") {
  const SandboxResult r = run_python_sandboxed("while True:\n    pass\n", quick(1.0));
  CHECK(r.status == SandboxStatus::TimedOut);
  CHECK(r.wall_seconds >= 1.0);
  CHECK(r.wall_seconds < 2.0);
  CHECK_FALSE(python_program_passes("import time\ntime.sleep(30)\n", quick(1.0)));
}

TEST_CASE("sandbox: a fork bomb is contained and leaves no process behind", "[sandbox]") {
  const std::string marker = "gemma-eval-fork-bomb-" + std::to_string(::getpid());
  const SandboxResult r = run_python_sandboxed(marked(marker,
                                                      "while True:\n"
                                                      "    try:\n"
                                                      "        os.fork()\n"
                                                      "    except OSError:\n"
                                                      "        pass\n"),
                                               quick(1.5));
  CHECK(r.status == SandboxStatus::TimedOut);
  CHECK(r.wall_seconds < 3.0);
  CHECK(survivors(marker) == 0);
  // Daemonised grandchildren die with the namespace too.
  const std::string daemon_marker = "gemma-eval-daemon-" + std::to_string(::getpid());
  const SandboxResult detached = run_python_sandboxed(marked(daemon_marker,
                                                             "import time\n"
                                                             "if os.fork() == 0:\n"
                                                             "    os.setsid()\n"
                                                             "    time.sleep(60)\n"),
                                                      quick());
  CHECK(detached.status == SandboxStatus::Passed);
  CHECK(survivors(daemon_marker) == 0);
  CHECK(python_program_passes("assert True\n", quick()));  // the harness is fine
}

TEST_CASE("sandbox: a huge allocation fails the program only", "[sandbox]") {
  const SandboxResult r = run_python_sandboxed("x = bytearray(16 * 1024 ** 3)\n", quick());
  CHECK(r.status == SandboxStatus::Failed);
  CHECK_THAT(r.stderr_tail, Catch::Contains("MemoryError"));
  CHECK(python_program_passes("x = bytearray(10 ** 7)\n", quick()));
}

TEST_CASE("sandbox: writes outside the work dir do not escape", "[sandbox]") {
  gemma::test::TempDir outside("sandbox-outside");
  fs::permissions(outside.path, fs::perms::all);  // even a world-writable folder stays untouched
  const std::string tmp_probe = "/tmp/" + outside.path.filename().string() + "-probe";
  const std::string program =
      "import os\n"
      "def attempt(path):\n"
      "    try:\n"
      "        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
      "        with open(path, 'w') as f:\n"
      "            f.write('leak')\n"
      "    except OSError:\n"
      "        pass\n"
      "attempt('" +
      (outside.path / "leak.txt").string() +
      "')\n"
      "attempt('" +
      tmp_probe +
      "')\n"
      "attempt('/etc/gemma-sandbox-probe')\n"
      "attempt('/var/tmp/gemma-sandbox-probe')\n"
      "with open('inside.txt', 'w') as f:\n"  // the work dir itself is writable
      "    f.write('ok')\n";
  const SandboxResult r = run_python_sandboxed(program, quick());
  INFO(r.error << r.stderr_tail);
  CHECK(r.status == SandboxStatus::Passed);
  CHECK_FALSE(fs::exists(outside.path / "leak.txt"));
  CHECK_FALSE(fs::exists(tmp_probe));
  CHECK_FALSE(fs::exists("/etc/gemma-sandbox-probe"));
  CHECK_FALSE(fs::exists("/var/tmp/gemma-sandbox-probe"));
  // The file-size limit stops a disk filler (Python ignores SIGXFSZ: the write fails with EFBIG).
  SandboxLimits small = quick();
  small.file_size_bytes = 1 << 20;
  const SandboxResult big = run_python_sandboxed("open('big', 'wb').write(b'x' * (8 << 20))\n", small);
  CHECK(big.status == SandboxStatus::Failed);
  CHECK_THAT(big.stderr_tail, Catch::Contains("File too large"));
}

TEST_CASE("sandbox: no network", "[sandbox]") {
  // A listener on the host's loopback the program is asked to reach.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const int port = ntohs(address.sin_port);

  const std::string program =
      "import socket\n"
      "for host, port in [('127.0.0.1', " +
      std::to_string(port) +
      "), ('1.1.1.1', 53)]:\n"
      "    try:\n"
      "        socket.create_connection((host, port), timeout=0.5)\n"
      "        raise SystemExit('connected to %s' % host)\n"
      "    except OSError:\n"
      "        pass\n";
  const SandboxResult r = run_python_sandboxed(program, quick());
  INFO(r.error << r.stderr_tail);
  CHECK(r.status == SandboxStatus::Passed);
  CHECK(::accept(listener, nullptr, nullptr) < 0);  // nobody knocked
  ::close(listener);
}

TEST_CASE("sandbox: a stdout flood is bounded", "[sandbox]") {
  SandboxLimits limits = quick();
  limits.output_tail_bytes = 1000;
  const SandboxResult r = run_python_sandboxed(
      "import sys\nsys.stdout.write('y' * (32 << 20) + 'END')\nsys.stderr.write('e' * 5000)\n", limits);
  CHECK(r.status == SandboxStatus::Passed);
  CHECK(r.stdout_tail.size() == 1000);
  CHECK(r.stdout_tail.substr(997) == "END");
  CHECK(r.stderr_tail == std::string(1000, 'e'));
}

TEST_CASE("sandbox: no python3 on PATH is a sandbox error not a failed program", "[sandbox]") {
  gemma::test::TempDir empty;
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", empty.path.c_str(), 1);
  const SandboxResult r = run_python_sandboxed("print(1)\n", quick());
  const bool throws = [&] {
    try {
      python_program_passes("print(1)\n", quick());
    } catch (const gemma::Error& e) {
      return std::string(e.what()).find("python3") != std::string::npos;
    }
    return false;
  }();
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(r.status == SandboxStatus::SandboxError);
  CHECK_THAT(r.error, Catch::Contains("python3 was not found on PATH"));
  CHECK(throws);
}

TEST_CASE("sandbox: the harness's open file descriptors are not inherited", "[sandbox]") {
  gemma::test::TempDir dir;
  const fs::path results = dir.path / "results.txt";
  std::ofstream(results) << "original";
  const int fd = ::open(results.c_str(), O_RDWR | O_APPEND);  // no O_CLOEXEC, like an ofstream's
  REQUIRE(fd >= 0);
  const SandboxResult r = run_python_sandboxed(
      "import os\n"
      "for fd in range(3, 1024):\n"
      "    try:\n"
      "        os.write(fd, b'tampered')\n"
      "    except OSError:\n"
      "        pass\n"
      "print(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n",
      quick());
  ::close(fd);
  INFO(r.error << r.stderr_tail);
  CHECK(r.status == SandboxStatus::Passed);
  // 0: the runner's pipe (read to EOF), 3: the listdir's own handle, and the end-of-program pipe at
  // its random number: the junk written to it does not stop the program from passing.
  const std::vector<std::string> lines = lines_of(r.stdout_tail);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("[0, 1, 2, 3, "));
  CHECK(std::count(lines[0].begin(), lines[0].end(), ',') == 4);
  std::ifstream in(results);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "original");
}

// ---------------------------------------------------------------- ending early is not passing

TEST_CASE("sandbox: a program that ends early with status 0 does not pass", "[sandbox][early_exit]") {
  // Each early exit comes before an assert that fails: HF code_eval / human-eval count none of them.
  const std::string wrong_answer = "def answer():\n    return 1\n";
  const std::string failing_test = "assert answer() == 2\n";
  const std::map<std::string, std::string> early_exits = {
      {"exit()", "exit()\n"},
      {"sys.exit(0)", "import sys\nsys.exit(0)\n"},
      {"os._exit(0)", "import os\nos._exit(0)\n"},
      {"raise SystemExit", "raise SystemExit\n"},
      {"atexit os._exit(0)", "import atexit, os\natexit.register(os._exit, 0)\n"},
      {"excepthook os._exit(0)", "import os, sys\nsys.excepthook = lambda *exc: os._exit(0)\n"},
  };
  for (const auto& [name, snippet] : early_exits) {
    INFO(name);
    const SandboxResult r = run_python_sandboxed(wrong_answer + snippet + failing_test, quick());
    INFO(r.error << r.stderr_tail);
    CHECK(r.exit_code == 0);  // what the old pass test looked at
    CHECK_FALSE(r.reached_end);
    CHECK(r.status == SandboxStatus::ExitedEarly);
    CHECK_FALSE(python_program_passes(wrong_answer + snippet + failing_test, quick()));
  }
  // The right answer passes; so does one that tampers with every descriptor and then ends normally.
  const SandboxResult right = run_python_sandboxed(wrong_answer + "assert answer() == 1\n", quick());
  INFO(right.error << right.stderr_tail);
  CHECK(right.status == SandboxStatus::Passed);
  CHECK(right.reached_end);
  const std::string tamper =
      "import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'x' * 100)\n    except OSError:\n        "
      "pass\n";
  CHECK(python_program_passes(tamper + "assert True\n", quick()));
  CHECK_FALSE(python_program_passes(tamper + "import os\nos._exit(0)\n", quick()));
  // The program's file, argv, environment and stdin hold neither the token nor its descriptor number.
  const SandboxResult seen = run_python_sandboxed(
      "import os, sys\n"
      "print(open(__file__).read().count('write('), sys.argv == [__file__], sys.stdin.read() == '')\n"
      "print(sorted(os.environ))\n",
      quick());
  INFO(seen.error << seen.stderr_tail);
  CHECK(seen.status == SandboxStatus::Passed);
  CHECK(seen.stdout_tail ==
        "1 True True\n"
        "['HOME', 'LANG', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'PATH', 'PYTHONDONTWRITEBYTECODE', "
        "'PYTHONHASHSEED', 'TMPDIR']\n");
  // Tracebacks still name program.py with its source lines.
  const SandboxResult traceback = run_python_sandboxed("x = 1\nassert x == 2, 'boom'\n", quick());
  CHECK(traceback.status == SandboxStatus::Failed);
  CHECK_THAT(traceback.stderr_tail, Catch::Contains("program.py\", line 2") && Catch::Contains("assert x == 2"));
}

// ---------------------------------------------------------------- the tree's memory cap

TEST_CASE("sandbox: memory is capped for the whole process tree", "[sandbox][memory]") {
  INFO("memory cap on this machine: " << sandbox_memory_cap_mode());
  SandboxLimits limits = quick(10.0);
  limits.memory_bytes = size_t{512} << 20;
  // Three children (the parent makes four processes: the rlimit fallback's limit) that each touch `mib`
  // MiB at once, then the parent checks that all of them succeeded.
  const auto forking = [](int mib) {
    return "import os, time\n"
           "children = []\n"
           "for i in range(3):\n"
           "    pid = os.fork()\n"
           "    if pid == 0:\n"
           "        try:\n"
           "            block = bytearray(b'\\x01') * (" +
           std::to_string(mib) +
           " << 20)\n"
           "            time.sleep(1.0)\n"
           "            os._exit(0)\n"
           "        except BaseException:  # MemoryError, or an error raised while it is handled\n"
           "            os._exit(3)\n"
           "    children.append(pid)\n"
           "for pid in children:\n"
           "    assert os.waitpid(pid, 0)[1] == 0\n";
  };
  // 3 x 200 MiB: each child is well under the old per-process limit (512 MiB), together over the cap.
  const SandboxResult over = run_python_sandboxed(forking(200), limits);
  INFO(over.memory_cap << " | " << over.error << over.stderr_tail);
  CHECK_FALSE(over.memory_cap.empty());
  CHECK(over.status != SandboxStatus::Passed);
  CHECK(over.status != SandboxStatus::SandboxError);
  // 3 x 40 MiB fits either way; and the harness goes on.
  const SandboxResult under = run_python_sandboxed(forking(40), limits);
  INFO(under.error << under.stderr_tail);
  CHECK(under.status == SandboxStatus::Passed);
  CHECK(python_program_passes("assert True\n", quick()));
}

// ---------------------------------------------------------------- seccomp and the minimal root

TEST_CASE("sandbox: the seccomp filter denies namespace, mount, trace and kernel syscalls", "[sandbox][seccomp]") {
  // Raw syscalls through ctypes (os.unshare is 3.12+). Zero arguments: without the filter several of
  // these succeed (unshare(0), ptrace(TRACEME), keyctl(GET_KEYRING_ID), clone(CLONE_NEWUSER)) or fail
  // with another errno; with it every one fails with EPERM before the kernel looks at them.
  const std::vector<std::pair<std::string, long>> denied = {
      {"unshare", SYS_unshare},
      {"setns", SYS_setns},
      {"mount", SYS_mount},
      {"umount2", SYS_umount2},
      {"pivot_root", SYS_pivot_root},
      {"chroot", SYS_chroot},
      {"ptrace", SYS_ptrace},
      {"bpf", SYS_bpf},
      {"keyctl", SYS_keyctl},
      {"add_key", SYS_add_key},
      {"request_key", SYS_request_key},
      {"perf_event_open", SYS_perf_event_open},
      {"kexec_load", SYS_kexec_load},
      {"init_module", SYS_init_module},
      {"finit_module", SYS_finit_module},
      {"delete_module", SYS_delete_module},
      {"swapon", SYS_swapon},
      {"reboot", SYS_reboot},
#ifdef SYS_kexec_file_load
      {"kexec_file_load", SYS_kexec_file_load},
#endif
  };
  std::string program =
      "import ctypes, os, subprocess, threading\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "libc.syscall.restype = ctypes.c_long\n"
      "def errno_of(nr, *args):\n"
      "    ctypes.set_errno(0)\n"
      "    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])\n"
      "    if r == 0 and nr == " +
      std::to_string(SYS_clone) +
      ":\n"
      "        os._exit(0)  # a child made by an unfiltered clone\n"
      "    return ctypes.get_errno() if r == -1 else 'succeeded'\n";
  for (const auto& [name, nr] : denied)
    program += "print('" + name + "', errno_of(" + std::to_string(nr) + ", 0, 0, 0, 0, 0))\n";
  program += "print('unshare(NEWUSER)', errno_of(" + std::to_string(SYS_unshare) + ", " +
             std::to_string(CLONE_NEWUSER) + "))\n";
  program += "print('clone(NEWUSER)', errno_of(" + std::to_string(SYS_clone) + ", " +
             std::to_string(CLONE_NEWUSER | SIGCHLD) + ", 0, 0, 0, 0))\n";
  program += "print('clone(NEWNET)', errno_of(" + std::to_string(SYS_clone) + ", " +
             std::to_string(CLONE_NEWNET | SIGCHLD) + ", 0, 0, 0, 0))\n";
  // What programs do keeps working: threads (glibc falls back from clone3), fork, subprocess.
  program +=
      "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    os._exit(7)\n"
      "assert os.waitpid(pid, 0)[1] >> 8 == 7\n"
      "assert subprocess.run(['true']).returncode == 0\n"
      "print('seccomp', [l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')])\n";
  const SandboxResult r = run_python_sandboxed(program, quick());
  INFO(r.error << r.stderr_tail << r.stdout_tail);
  REQUIRE(r.status == SandboxStatus::Passed);
  std::map<std::string, std::string> outcome;
  for (const std::string& line : lines_of(r.stdout_tail)) {
    const size_t space = line.rfind(' ');
    outcome[line.substr(0, space)] = line.substr(space + 1);
  }
  for (const auto& [name, nr] : denied) {
    INFO(name);
    CHECK(outcome[name] == std::to_string(EPERM));
  }
  CHECK(outcome["unshare(NEWUSER)"] == std::to_string(EPERM));
  CHECK(outcome["clone(NEWUSER)"] == std::to_string(EPERM));
  CHECK(outcome["clone(NEWNET)"] == std::to_string(EPERM));
  CHECK(outcome["seccomp"] == "['2']");  // SECCOMP_MODE_FILTER
}

TEST_CASE("sandbox: the program sees a minimal read-only root", "[sandbox][root]") {
  const std::string harness_dir = fs::current_path().string();
  const SandboxResult r = run_python_sandboxed(
      "import os\n"
      "for path in ['/etc/passwd', '/etc/shadow', '/etc/hostname', '/root', '/home', '/work', '/sys', '/opt',\n"
      "             '/var/lib', '/run', '/srv', '/mnt', '" +
          harness_dir +
          "']:\n"
          "    print(path, os.path.exists(path))\n"
          "try:\n"
          "    open('/etc/passwd').read()\n"
          "    print('passwd readable')\n"
          "except OSError as e:\n"
          "    print('passwd', type(e).__name__)\n"
          "for path in ['/new-file', '/usr/new-file', '/etc/new-file']:\n"
          "    try:\n"
          "        open(path, 'w').close()\n"
          "        print(path, 'written')\n"
          "    except OSError:\n"
          "        print(path, 'refused')\n"
          "print('root', sorted(os.listdir('/')))\n"
          "print('etc', sorted(os.listdir('/etc')))\n"
          "print('dev', sorted(os.listdir('/dev')))\n"
          "open('/dev/null', 'w').write('x'); assert len(open('/dev/urandom', 'rb').read(8)) == 8\n"
          "import hashlib, json, math, re; print('md5', hashlib.md5(b'').hexdigest())\n",
      quick());
  INFO(r.error << r.stderr_tail << r.stdout_tail);
  REQUIRE(r.status == SandboxStatus::Passed);
  const std::vector<std::string> lines = lines_of(r.stdout_tail);
  for (const std::string& path :
       {std::string("/etc/passwd"), std::string("/etc/shadow"), std::string("/etc/hostname"), std::string("/root"),
        std::string("/home"), std::string("/work"), std::string("/sys"), std::string("/opt"), std::string("/var/lib"),
        std::string("/run"), std::string("/srv"), std::string("/mnt"), harness_dir})
    CHECK(std::find(lines.begin(), lines.end(), path + " False") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "passwd FileNotFoundError") != lines.end());
  for (const char* path : {"/new-file", "/usr/new-file", "/etc/new-file"})
    CHECK(std::find(lines.begin(), lines.end(), std::string(path) + " refused") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "etc ['ld.so.cache']") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "md5 d41d8cd98f00b204e9800998ecf8427e") != lines.end());
}

TEST_CASE("sandbox: a python3 outside /usr (a venv under /tmp) gets its prefix in the root", "[sandbox][root]") {
  gemma::test::TempDir dir("sandbox-venv");
  const fs::path venv = dir.path / "venv";
  REQUIRE(std::system(("/usr/bin/python3 -m venv --without-pip " + venv.string()).c_str()) == 0);
  for (fs::path p = venv; p != dir.path.parent_path(); p = p.parent_path())  // searchable by the sandbox uid
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                           fs::perms::others_exec);
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", ((venv / "bin").string() + ":" + saved).c_str(), 1);
  const SandboxResult r = run_python_sandboxed("import sys\nprint(sys.prefix)\n", quick());
  ::setenv("PATH", saved.c_str(), 1);
  INFO(r.error << r.stderr_tail);
  CHECK(r.status == SandboxStatus::Passed);
  CHECK(r.stdout_tail == venv.string() + "\n");  // the venv's pyvenv.cfg was found in the sandbox
}
