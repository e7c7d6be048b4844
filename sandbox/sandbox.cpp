#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "common/error.h"

namespace gemma::sandbox {

const char* to_string(SandboxStatus status) {
  switch (status) {
    case SandboxStatus::Passed:
      return "passed";
    case SandboxStatus::Failed:
      return "failed";
    case SandboxStatus::TimedOut:
      return "timed out";
    case SandboxStatus::Killed:
      return "killed";
    case SandboxStatus::ExitedEarly:
      return "exited before the end";
    case SandboxStatus::SandboxError:
      return "sandbox error";
  }
  return "?";
}

namespace {

namespace fs = std::filesystem;

// As root each sandbox runs as a random uid in [kSandboxUidBase, +kSandboxUidCount): above every
// distribution's and subuid range's ids, below 2^31 (some tools read ids as signed).
constexpr uid_t kSandboxUidBase = 2000000000;
constexpr uid_t kSandboxUidCount = 100000000;
constexpr const char* kWorkDir = "/tmp/work";
constexpr const char* kProgramPath = "/tmp/work/program.py";
// The new root is assembled on a tmpfs mounted over /tmp of the (private) mount namespace, then
// pivoted into; kNewRoot + "/x" becomes "/x".
constexpr const char* kNewRoot = "/tmp";

// --------------------------------------------------------------- choosing the interpreter (parent)

// Whether a uid other than the owner/group root may execute `path`: every directory on the way
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

// python3 from PATH. As root the program runs as an unprivileged uid, so the interpreter must be executable by
// others; unprivileged, it runs as ourselves and the first executable one is taken.
std::string find_python(bool drops_privileges, std::string& why_not) {
  const char* path_env = std::getenv("PATH");
  std::stringstream dirs(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir, skipped;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "python3";
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    if (!drops_privileges || others_can_execute(candidate)) return candidate.string();
    skipped += " " + candidate.string();
  }
  why_not = skipped.empty() ? "python3 was not found on PATH"
                            : "no python3 on PATH is executable by an unprivileged sandbox uid; skipped:" + skipped;
  return "";
}

// --------------------------------------------------------------- the child side (syscalls only)

// Everything the cloned children need, prepared before cloning: a clone of a multi-threaded process
// may only make async-signal-safe calls (no allocation) until it execs.
// One step of assembling the minimal root under kNewRoot (paths already prefixed with kNewRoot).
struct RootStep {
  enum class Kind {
    MakeDir,       // mkdir target
    Symlink,       // symlink source -> target (/bin -> usr/bin on merged-/usr systems)
    BindReadOnly,  // bind-mount the host's source (a folder or a file) read-only at target
    BindDevice,    // bind-mount a host device node at target (an empty file made first)
    Tmpfs,         // a fresh tmpfs at target (ChildPlan::tmpfs_options)
  } kind;
  std::string source, target;
};

struct ChildPlan {
  bool as_root = true;
  uid_t sandbox_uid = 0;         // as root: the uid the program runs as
  std::string uid_map, gid_map;  // user-namespace mode: "0 <outer id> 1"
  std::string tmpfs_options;     // "size=N,mode=1777"
  std::string new_root_options;  // the root tmpfs: "size=1m,mode=0755"
  std::vector<RootStep> root_steps;
  // One slot per root step, sized by the parent: the child opens each bind source here (O_PATH) before
  // the new root's tmpfs covers /tmp, so sources under /tmp (a venv) stay reachable. Written by the
  // child into its own copy of the memory.
  mutable std::vector<int> source_fds;
  std::string proc_target;  // kNewRoot + "/proc"
  const std::string* program = nullptr;
  std::string python;
  std::vector<const char*> argv, envp;
  std::vector<std::pair<int, rlim_t>> rlimits;
  sock_fprog seccomp_program{};  // built by the parent (libseccomp allocates), loaded by the child
  int stdout_fd = -1, stderr_fd = -1, status_fd = -1, setup_fd = -1;
  int runner_fd = -1;            // read end of the pipe holding the runner: the program's stdin
  int end_token_fd = -1;         // write end of the end-of-program pipe...
  int end_token_fd_number = -1;  // ...placed at this random descriptor number in the program
  int cgroup_procs_fd = -1;      // cgroup v2 mode: the sandbox cgroup's cgroup.procs, else -1
  std::vector<int> parent_fds;   // read ends to close in the child
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

// Leaves the program only stdin/stdout/stderr, the setup-error pipe (moved to fd 3, close-on-exec)
// and the end-of-program pipe (at its random number, `keep`): the harness's own descriptors
// (ifstreams, sockets, the model's files) are often not close-on-exec, and an inherited writable one
// would let the program write outside the sandbox.
int keep_only_standard_fds(const ChildPlan& plan, int keep) {
  int setup_fd = plan.setup_fd;
  if (setup_fd != 3) {
    if (::dup3(setup_fd, 3, O_CLOEXEC) < 0) setup_failed(plan, "move the setup pipe");
    setup_fd = 3;
  }
  const auto close_from_to = [](unsigned first, unsigned last) {
    if (first > last) return;
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, first, last, 0U) == 0) return;
#endif
    for (unsigned fd = first; fd <= last && fd < 65536; ++fd) ::close(static_cast<int>(fd));  // kernels before 5.9
  };
  close_from_to(4, static_cast<unsigned>(keep) - 1);
  close_from_to(static_cast<unsigned>(keep) + 1, ~0U);
  return setup_fd;
}

bool write_proc_file(const char* path, const char* text, size_t size) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::write(fd, text, size);
  ::close(fd);
  return n == static_cast<ssize_t>(size);
}

// Writes "/proc/self/fd/<fd>" into `out` without allocating (the cloned child may not).
void fd_path(int fd, char (&out)[32]) {
  static const char prefix[] = "/proc/self/fd/";
  size_t length = sizeof prefix - 1;
  std::memcpy(out, prefix, length);
  char digits[12];
  int count = 0;
  for (unsigned v = static_cast<unsigned>(fd); count == 0 || v > 0; v /= 10)
    digits[count++] = static_cast<char>('0' + v % 10);
  while (count > 0) out[length++] = digits[--count];
  out[length] = '\0';
}

// The mount namespace: private propagation, then a minimal root assembled on a tmpfs under kNewRoot
// (read-only binds of what python3 needs, a few device nodes, fresh tmpfs where programs may write, a
// /proc of the new PID namespace), pivoted into, the old root detached, the new root made read-only;
// then the work dir + program.
void prepare_file_system(const ChildPlan& plan) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) setup_failed(plan, "make mounts private");
  for (size_t i = 0; i < plan.root_steps.size(); ++i) {
    const RootStep& step = plan.root_steps[i];
    plan.source_fds[i] = -1;
    if (step.kind != RootStep::Kind::BindReadOnly && step.kind != RootStep::Kind::BindDevice) continue;
    plan.source_fds[i] = ::open(step.source.c_str(), O_PATH | O_CLOEXEC);
    if (plan.source_fds[i] < 0) setup_failed(plan, step.source.c_str());
  }
  if (::mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, plan.new_root_options.c_str()) != 0)
    setup_failed(plan, "mount the new root's tmpfs");
  for (size_t i = 0; i < plan.root_steps.size(); ++i) {
    const RootStep& step = plan.root_steps[i];
    const char* target = step.target.c_str();
    switch (step.kind) {
      case RootStep::Kind::MakeDir:
        if (::mkdir(target, 0755) != 0 && errno != EEXIST) setup_failed(plan, target);
        break;
      case RootStep::Kind::Symlink:
        if (::symlink(step.source.c_str(), target) != 0) setup_failed(plan, target);
        break;
      case RootStep::Kind::BindReadOnly:
      case RootStep::Kind::BindDevice: {
        struct stat st {};
        if (::fstat(plan.source_fds[i], &st) != 0) setup_failed(plan, step.source.c_str());
        if (!S_ISDIR(st.st_mode)) {  // a file or device is bound onto an empty file
          const int fd = ::open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
          if (fd < 0) setup_failed(plan, target);
          ::close(fd);
        }
        char source[32];  // "/proc/self/fd/N": the opened source, wherever it now lies
        fd_path(plan.source_fds[i], source);
        if (::mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) setup_failed(plan, target);
        ::close(plan.source_fds[i]);
        // Device nodes must stay writable (/dev/null) and without nodev; everything else read-only.
        // Adding nosuid/nodev is allowed even where the source mount has them locked (user namespace).
        if (step.kind == RootStep::Kind::BindReadOnly &&
            ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
          setup_failed(plan, target);
        break;
      }
      case RootStep::Kind::Tmpfs:
        if (::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, plan.tmpfs_options.c_str()) != 0)
          setup_failed(plan, target);
        break;
    }
  }
  // Best effort (a container may refuse a fresh proc to a user namespace): hides the host's processes.
  ::mount("proc", plan.proc_target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  // pivot_root(".", "."): the old root ends up stacked on the new one and is detached right away.
  if (::chdir(kNewRoot) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0)
    setup_failed(plan, "pivot_root into the new root");
  if (::umount2(".", MNT_DETACH) != 0) setup_failed(plan, "detach the old root");
  if (::chdir("/") != 0) setup_failed(plan, "chdir to the new root");

  const uid_t owner = plan.as_root ? plan.sandbox_uid : 0;
  if (::mkdir(kWorkDir, 0700) != 0 || ::chown(kWorkDir, owner, owner) != 0) setup_failed(plan, "create the work dir");
  const int fd = ::open(kProgramPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) setup_failed(plan, "create program.py");
  write_all(fd, plan.program->data(), plan.program->size());
  if (::fchown(fd, owner, owner) != 0) setup_failed(plan, "chown program.py");
  ::close(fd);
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    setup_failed(plan, "remount the new root read-only");
}

// The program's process: redirections, limits, the uid drop, the seccomp filter, exec.
[[noreturn]] void exec_program(const ChildPlan& plan) {
  // Only the program's tree joins the cgroup ("0": the writer itself), not init: an OOM kill of the
  // group must leave init alive to report how the program ended.
  if (plan.cgroup_procs_fd >= 0 && ::write(plan.cgroup_procs_fd, "0", 1) != 1)
    setup_failed(plan, "join the sandbox cgroup");
  // First the end-of-program pipe to its random number (chosen by the parent to differ from every fd
  // of the plan); dup2 clears close-on-exec, so python inherits it.
  if (::dup2(plan.end_token_fd, plan.end_token_fd_number) < 0) setup_failed(plan, "place the end-of-program pipe");
  if (::dup2(plan.runner_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 || ::dup2(plan.stderr_fd, 2) < 0)
    setup_failed(plan, "redirect stdin/stdout/stderr");
  const int setup_fd = keep_only_standard_fds(plan, plan.end_token_fd_number);
  for (const auto& [resource, value] : plan.rlimits) {
    const struct rlimit limit { value, value };
    if (::setrlimit(resource, &limit) != 0) setup_failed_on(setup_fd, "setrlimit");
  }
  if (plan.as_root) {
    // Root is exempt from RLIMIT_NPROC and may write anywhere: become the sandbox's own uid.
    if (::setgroups(0, nullptr) != 0 || ::setgid(plan.sandbox_uid) != 0 || ::setuid(plan.sandbox_uid) != 0)
      setup_failed_on(setup_fd, "drop to the sandbox uid");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) setup_failed_on(setup_fd, "no_new_privs");
  if (::chdir(kWorkDir) != 0) setup_failed_on(setup_fd, "chdir to the work dir");
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &plan.seccomp_program, 0, 0) != 0)
    setup_failed_on(setup_fd, "load the seccomp filter");
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
  ::close(plan.runner_fd);
  ::close(plan.end_token_fd);
  if (plan.cgroup_procs_fd >= 0) ::close(plan.cgroup_procs_fd);
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
  void close_read() {
    if (read >= 0) ::close(read), read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write), write = -1;
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

// Keeps the last `limit` bytes of a stream.
void append_tail(std::string& tail, const char* data, size_t size, size_t limit) {
  tail.append(data, size);
  if (tail.size() > 2 * limit + 65536) tail.erase(0, tail.size() - limit);
}

// With a cgroup the tree's memory and process count are capped there, and RLIMIT_AS only turns one
// oversized allocation into a MemoryError; without one, the tree is capped by giving each of at most
// processes_without_cgroup processes an equal share of memory_bytes. Unprivileged, the namespace's init
// runs as the program's uid (and counts for RLIMIT_NPROC, per user namespace since Linux 5.14): one more.
std::vector<std::pair<int, rlim_t>> rlimits_for(const SandboxLimits& limits, bool in_cgroup, bool init_shares_uid) {
  const int cpu = limits.cpu_seconds > 0 ? limits.cpu_seconds : static_cast<int>(std::ceil(limits.timeout_seconds)) + 1;
  const int processes =
      in_cgroup ? limits.max_processes : std::min(limits.max_processes, limits.processes_without_cgroup);
  const size_t address_space = in_cgroup ? limits.memory_bytes : limits.memory_bytes / static_cast<size_t>(processes);
  return {{RLIMIT_CPU, static_cast<rlim_t>(cpu)},
          {RLIMIT_AS, static_cast<rlim_t>(address_space)},
          {RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_size_bytes)},
          {RLIMIT_NPROC, static_cast<rlim_t>(processes + (init_shares_uid ? 1 : 0))},
          {RLIMIT_NOFILE, static_cast<rlim_t>(limits.max_open_files)},
          {RLIMIT_CORE, 0}};
}

uint64_t random_u64() {
  uint64_t value = 0;
  size_t got = 0;
  while (got < sizeof value) {
    const ssize_t n = ::getrandom(reinterpret_cast<char*>(&value) + got, sizeof value - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("sandbox: getrandom failed: {}", std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  return value;
}

// 32 hex digits from the kernel's CSPRNG: the end-of-program token of one run.
std::string random_token() {
  static const char* const kHex = "0123456789abcdef";
  std::string token;
  for (int half = 0; half < 2; ++half)
    for (uint64_t v = random_u64(), i = 0; i < 16; ++i, v >>= 4) token += kHex[v & 15];
  return token;
}

// The program's stdin: python reads this runner to EOF before running it, so neither the token nor
// the descriptor number is visible in the program's file, argv, environment or on stdin. It runs
// program.py in __main__ (as `python3 program.py` would: __file__, argv[0], tracebacks with source
// lines) and, only if that returned, writes the token. Names come from __import__ so the program's
// namespace gets nothing new.
std::string runner_source(const std::string& token, int token_fd) {
  return std::string("__file__ = '") + kProgramPath +
         "'\n"
         "__import__('sys').argv[0] = __file__\n"
         "exec(compile(__import__('io').open_code(__file__).read(), __file__, 'exec'))\n"
         "__import__('os').write(" +
         std::to_string(token_fd) + ", b'" + token + "')\n";
}

// --------------------------------------------------------------- seccomp

// Syscalls the program never needs and that widen the attack surface: namespaces and mounts (escape
// the sandbox's view), tracing and other processes' memory, eBPF, keyrings, perf events, kexec,
// kernel modules, swap/reboot/clock/accounting, handle-based opens. Each fails with EPERM. Names the
// installed libseccomp does not know are skipped.
constexpr const char* kDeniedSyscalls[] = {
    "unshare",
    "setns",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "userfaultfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "vhangup",
};

// The filter as classic BPF, built once by libseccomp in the parent (the cloned child may not allocate).
const std::vector<sock_filter>& seccomp_filter(std::string& why_not) {
  static std::string error;
  static const std::vector<sock_filter> filter = [] {
    std::vector<sock_filter> program;
    const scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
      error = "seccomp_init failed";
      return program;
    }
    const auto deny = [&](int nr, uint32_t action, unsigned arg_count, const scmp_arg_cmp* args) {
      const int rc = seccomp_rule_add_array(ctx, action, nr, arg_count, args);
      if (rc != 0 && error.empty()) error = std::string("seccomp_rule_add failed: ") + std::strerror(-rc);
    };
    for (const char* name : kDeniedSyscalls) {
      const int nr = seccomp_syscall_resolve_name(name);
      if (nr != __NR_SCMP_ERROR && nr >= 0) deny(nr, SCMP_ACT_ERRNO(EPERM), 0, nullptr);
    }
    // clone: denied only with a new-namespace flag (fork and threads use plain clone).
    for (const uint64_t flag :
         {uint64_t{CLONE_NEWNS}, uint64_t{CLONE_NEWUSER}, uint64_t{CLONE_NEWPID}, uint64_t{CLONE_NEWNET},
          uint64_t{CLONE_NEWIPC}, uint64_t{CLONE_NEWUTS}, uint64_t{CLONE_NEWCGROUP}}) {
      const scmp_arg_cmp has_flag = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
      deny(SCMP_SYS(clone), SCMP_ACT_ERRNO(EPERM), 1, &has_flag);
    }
    // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
    const int clone3 = seccomp_syscall_resolve_name("clone3");
    if (clone3 != __NR_SCMP_ERROR && clone3 >= 0) deny(clone3, SCMP_ACT_ERRNO(ENOSYS), 0, nullptr);
    if (error.empty()) {
      const int fd = ::memfd_create("gemma-eval-seccomp", MFD_CLOEXEC);
      if (fd < 0) {
        error = std::string("memfd_create failed: ") + std::strerror(errno);
      } else {
        const int rc = seccomp_export_bpf(ctx, fd);
        const off_t size = ::lseek(fd, 0, SEEK_END);
        if (rc != 0 || size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
          error = "seccomp_export_bpf failed";
        } else {
          program.resize(static_cast<size_t>(size) / sizeof(sock_filter));
          if (::pread(fd, program.data(), static_cast<size_t>(size), 0) != size) {
            error = "reading the exported seccomp filter failed";
            program.clear();
          }
        }
        ::close(fd);
      }
    }
    seccomp_release(ctx);
    if (!error.empty()) program.clear();
    return program;
  }();
  why_not = error;
  return filter;
}

// --------------------------------------------------------------- the minimal root

bool is_under(const fs::path& path, const fs::path& top) {
  const std::string p = path.lexically_normal().string(), t = top.lexically_normal().string();
  return p == t || (p.size() > t.size() && p.compare(0, t.size(), t) == 0 && p[t.size()] == '/');
}

// What the program's root holds: the host's /usr, /bin, /sbin, /lib* (as symlinks where the host has
// symlinks), python3's prefix when it lies elsewhere (pyenv, a venv, /opt), the loader cache, five
// device nodes, and empty /proc, /tmp, /var/tmp, /dev/shm to mount on. Nothing else of the host.
std::vector<RootStep> minimal_root_steps(const std::string& python) {
  std::vector<RootStep> steps;
  const std::string root = kNewRoot;
  const auto make_dirs = [&](const fs::path& inside) {  // mkdir -p of an absolute in-root path
    fs::path partial;
    for (const fs::path& part : inside.relative_path()) {
      partial /= part;
      steps.push_back({RootStep::Kind::MakeDir, "", root + "/" + partial.string()});
    }
  };
  // The writable tmpfs first: a python prefix under /tmp (a venv) is then bound on top of the fresh /tmp.
  for (const char* writable : {"/tmp", "/var/tmp", "/dev/shm"}) {
    make_dirs(writable);
    steps.push_back({RootStep::Kind::Tmpfs, "", root + writable});
  }
  std::vector<fs::path> exposed;
  for (const char* top : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    struct stat st {};
    if (::lstat(top, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(top, ec);
      if (ec) continue;
      steps.push_back({RootStep::Kind::Symlink, target.string(), root + top});
    } else if (S_ISDIR(st.st_mode)) {
      make_dirs(top);
      steps.push_back({RootStep::Kind::BindReadOnly, top, root + top});
    } else {
      continue;
    }
    exposed.push_back(top);
  }
  // python3's prefix (<prefix>/bin/python3) for the path on PATH and the file it resolves to.
  std::error_code ec;
  for (const fs::path& binary : {fs::path(python), fs::canonical(python, ec)}) {
    const fs::path prefix = binary.parent_path().parent_path();
    if (prefix.empty() || prefix == prefix.root_path()) continue;
    bool covered = false;
    for (const fs::path& top : exposed)
      covered = covered || is_under(prefix, top) || is_under(fs::canonical(prefix, ec), top);
    if (covered) continue;
    make_dirs(prefix);
    steps.push_back({RootStep::Kind::BindReadOnly, prefix.string(), root + prefix.string()});
    exposed.push_back(prefix);
  }
  make_dirs("/etc");
  if (::access("/etc/ld.so.cache", R_OK) == 0)
    steps.push_back({RootStep::Kind::BindReadOnly, "/etc/ld.so.cache", root + "/etc/ld.so.cache"});
  make_dirs("/dev");
  for (const char* device : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
    if (::access(device, F_OK) == 0) steps.push_back({RootStep::Kind::BindDevice, device, root + device});
  for (const auto& [name, target] : std::vector<std::pair<std::string, std::string>>{{"fd", "/proc/self/fd"},
                                                                                     {"stdin", "/proc/self/fd/0"},
                                                                                     {"stdout", "/proc/self/fd/1"},
                                                                                     {"stderr", "/proc/self/fd/2"}})
    steps.push_back({RootStep::Kind::Symlink, target, root + "/dev/" + name});
  make_dirs("/proc");
  return steps;
}

// --------------------------------------------------------------- the cgroup v2 tree cap

// Where sandbox cgroups can be made: a cgroup v2 folder (ours, else our parent's) that delegates the
// memory and pids controllers to its children. Empty (and `why_not`) where none: cgroup v1, not root,
// or both refuse (the "no internal processes" rule keeps our own cgroup from delegating while the
// harness lives in it, unless it is the root).
std::string read_small_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool write_small_file(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

bool delegates_memory_and_pids(const fs::path& dir) {
  const auto has_both = [](const std::string& list) {
    std::stringstream words(list);
    bool memory = false, pids = false;
    for (std::string w; words >> w;) memory = memory || w == "memory", pids = pids || w == "pids";
    return memory && pids;
  };
  if (has_both(read_small_file(dir / "cgroup.subtree_control"))) return true;
  if (!has_both(read_small_file(dir / "cgroup.controllers"))) return false;
  write_small_file(dir / "cgroup.subtree_control", "+memory +pids");
  return has_both(read_small_file(dir / "cgroup.subtree_control"));
}

const std::string& cgroup_parent(std::string& why_not) {
  static std::string reason;
  static const std::string parent = []() -> std::string {
    const fs::path mount = "/sys/fs/cgroup";
    struct statfs fs_info {};
    if (::statfs(mount.c_str(), &fs_info) != 0 || fs_info.f_type != CGROUP2_SUPER_MAGIC) {
      reason = "/sys/fs/cgroup is not cgroup v2";
      return "";
    }
    if (::geteuid() != 0) {
      reason = "not root";
      return "";
    }
    std::string own;
    std::stringstream lines(read_small_file("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("0::", 0) == 0) own = line.substr(3);
    if (own.empty() || own[0] != '/') {
      reason = "no cgroup v2 entry in /proc/self/cgroup";
      return "";
    }
    fs::path dir = own == "/" ? mount : mount / fs::path(own).relative_path();
    for (int level = 0; level < 2; ++level) {
      if (::access((dir / "cgroup.procs").c_str(), W_OK) == 0 && delegates_memory_and_pids(dir)) return dir.string();
      if (dir == mount) break;
      dir = dir.parent_path();
    }
    reason = "neither the harness's cgroup " + own + " nor its parent delegates memory and pids";
    return "";
  }();
  why_not = reason;
  return parent;
}

// One sandbox's cgroup: memory.max (no swap) and pids.max for the whole tree; killed and removed at
// the end of the run.
class SandboxCgroup {
 public:
  // Empty when cgroups are unavailable; throws when one should be made and cannot.
  SandboxCgroup(const SandboxLimits& limits) {
    std::string why_not;
    const std::string& parent = cgroup_parent(why_not);
    if (parent.empty()) return;
    static unsigned counter = 0;
    dir_ = fs::path(parent) / ("gemma-eval-sandbox-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      const int err = errno;
      dir_.clear();
      fail("sandbox: cannot create the cgroup under {}: {}", parent, std::strerror(err));
    }
    if (!write_small_file(dir_ / "memory.max", std::to_string(limits.memory_bytes)) ||
        !write_small_file(dir_ / "pids.max", std::to_string(limits.max_processes))) {
      const int err = errno;
      remove();
      fail("sandbox: cannot set memory.max / pids.max of {}: {}", parent, std::strerror(err));
    }
    write_small_file(dir_ / "memory.swap.max", "0");   // absent without swap accounting
    write_small_file(dir_ / "memory.oom.group", "1");  // an OOM kills the whole program tree
    procs_fd_ = ::open((dir_ / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (procs_fd_ < 0) {
      const int err = errno;
      remove();
      fail("sandbox: cannot open {}/cgroup.procs: {}", dir_.string(), std::strerror(err));
    }
  }
  ~SandboxCgroup() { remove(); }
  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;

  bool active() const { return !dir_.empty(); }
  int procs_fd() const { return procs_fd_; }
  const fs::path& dir() const { return dir_; }
  // The OOM kills in this cgroup so far (memory.events "oom_kill N").
  long oom_kills() const {
    std::stringstream events(read_small_file(dir_ / "memory.events"));
    std::string key;
    long value = 0;
    while (events >> key >> value)
      if (key == "oom_kill") return value;
    return 0;
  }

 private:
  void remove() {
    if (procs_fd_ >= 0) ::close(procs_fd_), procs_fd_ = -1;
    if (dir_.empty()) return;
    write_small_file(dir_ / "cgroup.kill", "1");  // 5.14+; the namespace is normally gone already
    for (int attempt = 0; attempt < 100 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++attempt) ::usleep(10 * 1000);
    dir_.clear();
  }
  fs::path dir_;
  int procs_fd_ = -1;
};

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

std::string sandbox_memory_cap_mode() {
  std::string why_not;
  const std::string& parent = cgroup_parent(why_not);
  if (!parent.empty()) return "cgroup v2 memory.max + pids.max under " + parent;
  return "rlimit: RLIMIT_AS = memory / processes_without_cgroup, RLIMIT_NPROC = processes_without_cgroup (" + why_not +
         ")";
}

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
  if (limits.max_open_files < 32 || limits.max_processes < 1 || limits.processes_without_cgroup < 1)
    return sandbox_error("max_open_files must be >= 32 and max_processes, processes_without_cgroup >= 1");
  const std::vector<sock_filter>& filter = seccomp_filter(why_not);
  if (filter.empty()) return sandbox_error("cannot build the seccomp filter: " + why_not);
  plan.seccomp_program.len = static_cast<unsigned short>(filter.size());
  plan.seccomp_program.filter = const_cast<sock_filter*>(filter.data());
  plan.sandbox_uid = kSandboxUidBase + static_cast<uid_t>(random_u64() % kSandboxUidCount);
  plan.tmpfs_options = "size=" + std::to_string(limits.tmpfs_bytes) + ",mode=1777";
  plan.new_root_options = "size=1m,mode=0755";
  plan.root_steps = minimal_root_steps(plan.python);
  plan.source_fds.assign(plan.root_steps.size(), -1);
  plan.proc_target = std::string(kNewRoot) + "/proc";
  plan.program = &program;
  plan.argv = {plan.python.c_str(), "-B", "-", nullptr};
  // A fixed hash seed makes set/dict iteration order, and so scores, reproducible (HF code_eval
  // inherits a random one). One OpenMP/BLAS thread, as HF code_eval's reliability_guard sets.
  plan.envp = {"PATH=/usr/local/bin:/usr/bin:/bin",
               "HOME=/tmp/work",
               "TMPDIR=/tmp",
               "LANG=C.UTF-8",
               "PYTHONHASHSEED=0",
               "PYTHONDONTWRITEBYTECODE=1",
               "OMP_NUM_THREADS=1",
               "OPENBLAS_NUM_THREADS=1",
               nullptr};

  std::optional<SandboxCgroup> cgroup;
  try {
    cgroup.emplace(limits);
  } catch (const gemma::Error& e) {
    return sandbox_error(e.what());
  }
  plan.cgroup_procs_fd = cgroup->procs_fd();
  plan.rlimits = rlimits_for(limits, cgroup->active(), !plan.as_root);

  Pipe out, err, status, setup, runner, end_token;
  plan.stdout_fd = out.write;
  plan.stderr_fd = err.write;
  plan.status_fd = status.write;
  plan.setup_fd = setup.write;
  plan.runner_fd = runner.read;
  plan.end_token_fd = end_token.write;
  plan.parent_fds = {out.read, err.read, status.read, setup.read, end_token.read};
  // A random descriptor number in [10, max_open_files) that is none of the plan's own descriptors.
  const std::vector<int> taken = {
      out.read,    out.write,   err.read,     err.write,      status.read,     status.write,        setup.read,
      setup.write, runner.read, runner.write, end_token.read, end_token.write, plan.cgroup_procs_fd};
  const int lowest = 10;  // max_open_files >= 32: at least 9 of [10, max_open_files) are free
  do {
    plan.end_token_fd_number =
        lowest + static_cast<int>(random_u64() % static_cast<uint64_t>(limits.max_open_files - lowest));
  } while (std::find(taken.begin(), taken.end(), plan.end_token_fd_number) != taken.end());
  const std::string token = random_token();
  const std::string runner_text = runner_source(token, plan.end_token_fd_number);
  // The runner fits the pipe's buffer (64 KiB), so it is written now and the write end closed before
  // cloning: python sees EOF once it has read it.
  if (::write(runner.write, runner_text.data(), runner_text.size()) != static_cast<ssize_t>(runner_text.size()))
    return sandbox_error("cannot write the runner to its pipe");
  runner.close_write();

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
  runner.close_read();
  end_token.close_write();
  const std::string setup_error = read_to_eof(setup.read);
  if (!setup_error.empty()) {
    ::kill(static_cast<pid_t>(init_pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(init_pid), nullptr, 0);
    return sandbox_error("setup failed: " + setup_error);
  }

  SandboxResult result;
  if (cgroup->active()) {
    result.memory_cap = "cgroup v2 " + cgroup->dir().string() + " (memory.max " + std::to_string(limits.memory_bytes) +
                        ", pids.max " + std::to_string(limits.max_processes) + ")";
  } else {
    result.memory_cap = "rlimit: " + std::to_string(std::min(limits.max_processes, limits.processes_without_cgroup)) +
                        " processes x " + std::to_string(plan.rlimits[1].second) + " bytes (RLIMIT_AS)";
  }
  std::string status_bytes;
  bool timed_out = false;
  std::string end_token_tail;  // the last bytes read from the end-of-program pipe (the program may write junk)
  std::vector<pollfd> fds = {
      {out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {status.read, POLLIN, 0}, {end_token.read, POLLIN, 0}};
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
      if (i == 3) {
        end_token_tail.append(buffer, size);
        if (end_token_tail.find(token) != std::string::npos) result.reached_end = true;
        if (end_token_tail.size() > token.size()) end_token_tail.erase(0, end_token_tail.size() - token.size());
      }
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
      result.status = result.exit_code != 0 ? SandboxStatus::Failed
                      : result.reached_end  ? SandboxStatus::Passed
                                            : SandboxStatus::ExitedEarly;
      if (result.status == SandboxStatus::ExitedEarly)
        result.error =
            "exited with status 0 before the end of the program (exit(), sys.exit, os._exit, an atexit hook...)";
    } else {
      result.signal = WIFSIGNALED(program_status) ? WTERMSIG(program_status) : 0;
      result.status = SandboxStatus::Killed;
      result.error =
          std::string("killed by signal ") + std::to_string(result.signal) + " (" + strsignal(result.signal) + ")";
      if (cgroup->active() && cgroup->oom_kills() > 0)
        result.error += ": the program's processes together exceeded the memory cap";
    }
  }
  return result;
}

bool python_program_passes(const std::string& program, const SandboxLimits& limits) {
  const SandboxResult result = run_python_sandboxed(program, limits);
  if (result.status == SandboxStatus::SandboxError) fail("cannot score a program: {}", result.error);
  return result.status == SandboxStatus::Passed;
}

}  // namespace gemma::sandbox
