// The code-execution sandbox (evals/sandbox.h): what a program may and may not do, and that the
// harness survives whatever it does. Timeouts are kept at 1-2 s so the file runs in a few seconds.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "evals/sandbox.h"
#include "tests/support/temp_dir.h"

using namespace gemma::evals;
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

// A program that first re-executes itself with `marker` among its arguments, so that it and everything
// it forks carry the marker in /proc/<pid>/cmdline.
std::string marked(const std::string& marker, const std::string& body) {
  return "import os, sys\n"
         "if len(sys.argv) < 2:\n"
         "    os.execv(sys.executable, [sys.executable, '-B', os.path.abspath(__file__), '" + marker + "'])\n" + body;
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
      "attempt('" + (outside.path / "leak.txt").string() + "')\n"
      "attempt('" + tmp_probe + "')\n"
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
      "for host, port in [('127.0.0.1', " + std::to_string(port) + "), ('1.1.1.1', 53)]:\n"
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
  const SandboxResult r =
      run_python_sandboxed("import sys\nsys.stdout.write('y' * (32 << 20) + 'END')\nsys.stderr.write('e' * 5000)\n",
                           limits);
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
  CHECK(r.stdout_tail == "[0, 1, 2, 3]\n");  // 3: the listdir's own handle
  std::ifstream in(results);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "original");
}
