#pragma once
// Runs one untrusted Python program (HumanEval / MBPP completions, spec §3.17, §3.18, §4.11) in a
// Linux sandbox: new PID, network, mount, IPC and UTS namespaces (a user namespace too when not
// root), an unprivileged uid (nobody, 65534) when root so that RLIMIT_NPROC binds and files outside
// are not writable, rlimits on CPU time, address space, file size, processes and open files, a
// read-only root file system with fresh tmpfs over /tmp, /var/tmp and /dev/shm (the throwaway work
// directory lives in that /tmp, so everything the program writes vanishes with the namespace), and a
// wall-clock timeout that kills the namespace's init, which makes the kernel kill every process in it.
// If the namespaces cannot be created the run is refused (SandboxError): nothing runs unsandboxed.
// Torch-free; Linux only.
#include <cstddef>
#include <string>

namespace gemma::evals {

enum class SandboxStatus {
  Passed,        // exited with status 0
  Failed,        // exited with another status (an exception, a failed assert, MemoryError)
  TimedOut,      // still running at the wall-clock limit: killed with everything it started
  Killed,        // died of a signal (SIGXCPU: CPU limit, SIGXFSZ: file size limit, SIGSEGV, ...)
  SandboxError,  // the sandbox itself could not be set up (no python3, no namespaces): not the program's fault
};
const char* to_string(SandboxStatus status);

struct SandboxLimits {
  double timeout_seconds = 3.0;                     // wall clock, whole process tree
  int cpu_seconds = 0;                              // RLIMIT_CPU per process; 0 = ceil(timeout) + 1
  size_t memory_bytes = size_t{2} << 30;            // RLIMIT_AS per process
  size_t file_size_bytes = size_t{16} << 20;        // RLIMIT_FSIZE
  size_t tmpfs_bytes = size_t{64} << 20;            // size of each tmpfs (/tmp with the work dir, /var/tmp, /dev/shm)
  int max_processes = 64;                           // RLIMIT_NPROC of the sandbox uid (all its processes)
  int max_open_files = 256;                         // RLIMIT_NOFILE
  size_t output_tail_bytes = 4096;                  // how much of the end of stdout and of stderr is kept
};

struct SandboxResult {
  SandboxStatus status = SandboxStatus::SandboxError;
  int exit_code = -1;  // Passed / Failed: the program's exit status
  int signal = 0;      // Killed: the signal
  double wall_seconds = 0.0;
  std::string stdout_tail;  // at most output_tail_bytes each: the END of the output
  std::string stderr_tail;
  std::string error;        // SandboxError: what failed; TimedOut: the limit
};

// Runs `program` as `python3 -B <workdir>/program.py` (python3 found on PATH, the first one the
// sandbox uid can execute). Never throws for anything the program does.
SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& limits = {});

// The scoring API: true iff the program exits with status 0 within the limits. Throws gemma::Error
// on SandboxError, so a broken sandbox fails the run instead of silently scoring every program 0.
bool python_program_passes(const std::string& program, const SandboxLimits& limits = {});

}  // namespace gemma::evals
