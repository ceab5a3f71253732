/* kizuki.h - the public face of kizuki: version and exit codes.
 *
 * kizuki is a detection and forensic-scoping engine for Windows/Active Directory estates. The
 * library is internal for now; this header holds what scripts and embedders may rely on: the
 * version string and the process exit codes of the command-line contract (docs/cli.md). */
#ifndef KIZUKI_H
#define KIZUKI_H

#define KZ_VERSION "0.1.0"

/* Exit codes of every kizuki command (the DESIGN.md contract). */
enum kz_exit {
    KZ_EXIT_OK = 0,       /* success, findings or not */
    KZ_EXIT_INPUT = 1,    /* usage error or unreadable/invalid input */
    KZ_EXIT_INTERNAL = 2, /* internal error (out of memory, bug) */
};

#endif
