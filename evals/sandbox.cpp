#include "evals/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include "common/error.h"

namespace gemma::evals {

const char* to_string(SandboxStatus status) {
  switch (status) {
    case SandboxStatus::Passed: return "passed";
    case SandboxStatus::Failed: return "failed";
    case SandboxStatus::TimedOut: return "timed out";
    case SandboxStatus::Killed: return "killed";
    case SandboxStatus::SandboxError: return "sandbox error";
  }
  return "?";
}

namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;  // the sandbox uid when we are root (Debian's nobody/nogroup)
constexpr const char* kWorkDir = "/tmp/work";
constexpr const char* kProgramPath = "/tmp/work/program.py";

// --------------------------------------------------------------- choosing the interpreter (parent)

// Whether `uid` (other than the owner/group root) may execute `path`: every directory on the way
// must be searchable by others and the file executable by others. /root/.pyenv shims fail this.
bool others_can_execute(const fs::path& path) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) return false;
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXOTH)) return false;
  for (fs::path dir = real.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
    if (dir == dir.root_path()) break;
  }
  return true;
}

// python3 from PATH. As root the program runs as nobody, so the interpreter must be executable by
// others; unprivileged, it runs as ourselves and the first executable one is taken.
std::string find_python(bool drops_to_nobody, std::string& why_not) {
  const char* path_env = std::getenv("PATH");
  std::stringstream dirs(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir, skipped;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "python3";
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    if (!drops_to_nobody || others_can_execute(candidate)) return candidate.string();
    skipped += " " + candidate.string();
  }
  why_not = skipped.empty() ? "python3 was not found on PATH"
                            : "no python3 on PATH is executable by the sandbox user (uid 65534); skipped:" + skipped;
  return "";
}

// --------------------------------------------------------------- the child side (syscalls only)

// Everything the cloned children need, prepared before cloning: a clone of a multi-threaded process
// may only make async-signal-safe calls (no allocation) until it execs.
struct ChildPlan {
  bool as_root = true;
  std::string uid_map, gid_map;       // user-namespace mode: "0 <outer id> 1"
  std::string tmpfs_options;          // "size=N,mode=1777"
  const std::string* program = nullptr;
  std::string python;
  std::vector<const char*> argv, envp;
  std::vector<std::pair<int, rlim_t>> rlimits;
  int stdout_fd = -1, stderr_fd = -1, status_fd = -1, setup_fd = -1;
  std::vector<int> parent_fds;        // read ends to close in the child
};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Reports a setup failure to the parent ("<what>: errno <n>") on `fd` and exits; async-signal-safe.
[[noreturn]] void setup_failed_on(int fd, const char* what) {
  const int err = errno;
  char digits[16];
  int len = 0;
  for (int v = err; len == 0 || v > 0; v /= 10) digits[len++] = static_cast<char>('0' + v % 10);
  write_all(fd, what, std::strlen(what));
  write_all(fd, ": errno ", 8);
  while (len > 0) write_all(fd, &digits[--len], 1);
  ::_exit(127);
}

[[noreturn]] void setup_failed(const ChildPlan& plan, const char* what) { setup_failed_on(plan.setup_fd, what); }

// Leaves the program only stdin/stdout/stderr and the setup-error pipe (moved to fd 3, close-on-
// exec): the harness's own descriptors (ifstreams, sockets, the model's files) are often not
// close-on-exec, and an inherited writable one would let the program write outside the sandbox.
int keep_only_standard_fds(const ChildPlan& plan) {
  int setup_fd = plan.setup_fd;
  if (setup_fd != 3) {
    if (::dup3(setup_fd, 3, O_CLOEXEC) < 0) setup_failed(plan, "move the setup pipe");
    setup_fd = 3;
  }
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 4U, ~0U, 0U) == 0) return setup_fd;
#endif
  for (int fd = 4; fd < 65536; ++fd) ::close(fd);  // kernels before 5.9
  return setup_fd;
}

bool write_proc_file(const char* path, const char* text, size_t size) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::write(fd, text, size);
  ::close(fd);
  return n == static_cast<ssize_t>(size);
}

// The mount namespace: private propagation, read-only root, fresh tmpfs where programs may write,
// a /proc of the new PID namespace (best effort: hides the host's processes), the work dir + program.
void prepare_file_system(const ChildPlan& plan) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) setup_failed(plan, "make mounts private");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0 && plan.as_root)
    setup_failed(plan, "remount / read-only");  // user-namespace mode: other mounts may refuse; uid is ours anyway
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan.tmpfs_options.c_str()) != 0)
    setup_failed(plan, "mount tmpfs on /tmp");
  for (const char* optional : {"/var/tmp", "/dev/shm"})
    if (::access(optional, F_OK) == 0 &&
        ::mount("tmpfs", optional, "tmpfs", MS_NOSUID | MS_NODEV, plan.tmpfs_options.c_str()) != 0)
      setup_failed(plan, optional);
  ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);

  const uid_t owner = plan.as_root ? kNobody : 0;
  if (::mkdir(kWorkDir, 0700) != 0 || ::chown(kWorkDir, owner, owner) != 0) setup_failed(plan, "create the work dir");
  const int fd = ::open(kProgramPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) setup_failed(plan, "create program.py");
  write_all(fd, plan.program->data(), plan.program->size());
  if (::fchown(fd, owner, owner) != 0) setup_failed(plan, "chown program.py");
  ::close(fd);
}

// The program's process: redirections, limits, the uid drop, exec.
[[noreturn]] void exec_program(const ChildPlan& plan) {
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 || ::dup2(plan.stderr_fd, 2) < 0)
    setup_failed(plan, "redirect stdin/stdout/stderr");
  const int setup_fd = keep_only_standard_fds(plan);
  for (const auto& [resource, value] : plan.rlimits) {
    const struct rlimit limit{value, value};
    if (::setrlimit(resource, &limit) != 0) setup_failed_on(setup_fd, "setrlimit");
  }
  if (plan.as_root) {
    // Root is exempt from RLIMIT_NPROC and may write anywhere: become nobody.
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
      setup_failed_on(setup_fd, "drop to uid 65534");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) setup_failed_on(setup_fd, "no_new_privs");
  if (::chdir(kWorkDir) != 0) setup_failed_on(setup_fd, "chdir to the work dir");
  ::execve(plan.python.c_str(), const_cast<char* const*>(plan.argv.data()), const_cast<char* const*>(plan.envp.data()));
  setup_failed_on(setup_fd, "execve python3");
}

// PID 1 of the new PID namespace: sets up the namespace, starts the program, reaps every orphan
// until the program ends, reports its wait status, and exits, which kills whatever is left.
[[noreturn]] void namespace_init(const ChildPlan& plan) {
  for (int fd : plan.parent_fds) ::close(fd);
  if (!plan.as_root) {
    if (!write_proc_file("/proc/self/setgroups", "deny", 4) ||
        !write_proc_file("/proc/self/uid_map", plan.uid_map.data(), plan.uid_map.size()) ||
        !write_proc_file("/proc/self/gid_map", plan.gid_map.data(), plan.gid_map.size()))
      setup_failed(plan, "write the user namespace's id maps");
  }
  prepare_file_system(plan);
  const long program_pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (program_pid < 0) setup_failed(plan, "fork the program");
  if (program_pid == 0) exec_program(plan);
  ::close(plan.setup_fd);
  ::close(plan.stdout_fd);
  ::close(plan.stderr_fd);
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) ::_exit(126);
    if (pid == program_pid) {
      write_all(plan.status_fd, reinterpret_cast<const char*>(&status), sizeof status);
      ::_exit(0);
    }
  }
}

// --------------------------------------------------------------- the parent side

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail("sandbox: pipe2 failed: {}", std::strerror(errno));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() { if (read >= 0) ::close(read), read = -1; }
  void close_write() { if (write >= 0) ::close(write), write = -1; }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

// Keeps the last `limit` bytes of a stream.
void append_tail(std::string& tail, const char* data, size_t size, size_t limit) {
  tail.append(data, size);
  if (tail.size() > 2 * limit + 65536) tail.erase(0, tail.size() - limit);
}

std::vector<std::pair<int, rlim_t>> rlimits_for(const SandboxLimits& limits) {
  const int cpu = limits.cpu_seconds > 0 ? limits.cpu_seconds
                                         : static_cast<int>(std::ceil(limits.timeout_seconds)) + 1;
  return {{RLIMIT_CPU, static_cast<rlim_t>(cpu)},
          {RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes)},
          {RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_size_bytes)},
          {RLIMIT_NPROC, static_cast<rlim_t>(limits.max_processes)},
          {RLIMIT_NOFILE, static_cast<rlim_t>(limits.max_open_files)},
          {RLIMIT_CORE, 0}};
}

SandboxResult sandbox_error(std::string why) {
  SandboxResult result;
  result.status = SandboxStatus::SandboxError;
  result.error = "sandbox: " + std::move(why);
  return result;
}

// Reads a pipe until EOF (the setup-error pipe closes when the program execs or a child fails).
std::string read_to_eof(int fd) {
  std::string text;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& limits) {
  const auto started = std::chrono::steady_clock::now();
  const auto seconds_since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  ChildPlan plan;
  plan.as_root = ::geteuid() == 0;
  std::string why_not;
  plan.python = find_python(plan.as_root, why_not);
  if (plan.python.empty()) return sandbox_error(why_not);
  plan.uid_map = "0 " + std::to_string(::geteuid()) + " 1";
  plan.gid_map = "0 " + std::to_string(::getegid()) + " 1";
  plan.tmpfs_options = "size=" + std::to_string(limits.tmpfs_bytes) + ",mode=1777";
  plan.program = &program;
  plan.argv = {plan.python.c_str(), "-B", kProgramPath, nullptr};
  // A fixed hash seed makes set/dict iteration order, and so scores, reproducible (HF code_eval
  // inherits a random one).
  plan.envp = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp/work", "TMPDIR=/tmp", "LANG=C.UTF-8",
               "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1", nullptr};
  plan.rlimits = rlimits_for(limits);

  Pipe out, err, status, setup;
  plan.stdout_fd = out.write;
  plan.stderr_fd = err.write;
  plan.status_fd = status.write;
  plan.setup_fd = setup.write;
  plan.parent_fds = {out.read, err.read, status.read, setup.read};

  long flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  if (!plan.as_root) flags |= CLONE_NEWUSER;
  // Raw clone: the child is PID 1 of the new PID namespace, and killing it kills the namespace.
  const long init_pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (init_pid < 0) {
    const int clone_errno = errno;
    return sandbox_error(std::string("cannot create the PID/network/mount namespaces (") +
                         (plan.as_root ? "as root" : "unprivileged, with a user namespace") +
                         "): " + std::strerror(clone_errno) + "; refusing to run the program unsandboxed");
  }
  if (init_pid == 0) namespace_init(plan);

  out.close_write();
  err.close_write();
  status.close_write();
  setup.close_write();
  const std::string setup_error = read_to_eof(setup.read);
  if (!setup_error.empty()) {
    ::kill(static_cast<pid_t>(init_pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(init_pid), nullptr, 0);
    return sandbox_error("setup failed: " + setup_error);
  }

  SandboxResult result;
  std::string status_bytes;
  bool timed_out = false;
  std::vector<pollfd> fds = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {status.read, POLLIN, 0}};
  size_t open_fds = fds.size();
  while (open_fds > 0) {
    const double left = limits.timeout_seconds - seconds_since_start();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::ceil(left * 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[65536];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;  // EOF: every writer in the namespace is gone
        --open_fds;
        continue;
      }
      const size_t size = static_cast<size_t>(n);
      if (i == 0) append_tail(result.stdout_tail, buffer, size, limits.output_tail_bytes);
      if (i == 1) append_tail(result.stderr_tail, buffer, size, limits.output_tail_bytes);
      if (i == 2) status_bytes.append(buffer, size);
    }
  }
  ::kill(static_cast<pid_t>(init_pid), SIGKILL);  // no-op after a normal end; else ends the namespace
  int init_status = 0;
  while (::waitpid(static_cast<pid_t>(init_pid), &init_status, 0) < 0 && errno == EINTR) {
  }
  result.wall_seconds = seconds_since_start();
  for (std::string* tail : {&result.stdout_tail, &result.stderr_tail})
    if (tail->size() > limits.output_tail_bytes) tail->erase(0, tail->size() - limits.output_tail_bytes);

  int program_status = 0;
  if (timed_out) {
    result.status = SandboxStatus::TimedOut;
    result.error = "timed out after " + std::to_string(limits.timeout_seconds) + " s";
  } else if (status_bytes.size() != sizeof program_status) {
    result.status = SandboxStatus::SandboxError;
    result.error = "sandbox: the namespace's init ended without reporting the program's status";
  } else {
    std::memcpy(&program_status, status_bytes.data(), sizeof program_status);
    if (WIFEXITED(program_status)) {
      result.exit_code = WEXITSTATUS(program_status);
      result.status = result.exit_code == 0 ? SandboxStatus::Passed : SandboxStatus::Failed;
    } else {
      result.signal = WIFSIGNALED(program_status) ? WTERMSIG(program_status) : 0;
      result.status = SandboxStatus::Killed;
      result.error = std::string("killed by signal ") + std::to_string(result.signal) + " (" +
                     strsignal(result.signal) + ")";
    }
  }
  return result;
}

bool python_program_passes(const std::string& program, const SandboxLimits& limits) {
  const SandboxResult result = run_python_sandboxed(program, limits);
  if (result.status == SandboxStatus::SandboxError) fail("cannot score a program: {}", result.error);
  return result.status == SandboxStatus::Passed;
}

}  // namespace gemma::evals
