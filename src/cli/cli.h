/* cli.h - what the subcommands share: option parsing helpers, messages, progress, exit codes.
 *
 * Each subcommand lives in its own cmd_<name>.c and is listed once, in main.c's command table, with
 * its one-line summary; its --help text sits beside its code. Messages go to stderr prefixed with
 * "kizuki <command>: "; progress is drawn on stderr only when it is a terminal and --quiet is not
 * given. */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include "kizuki/kizuki.h"

#include <stdint.h>
#include <stdio.h>

struct kz_cli {
    const char *command;  /* "dump", ... for messages */
    int quiet;            /* --quiet: no progress, no summary */
    int progress;         /* draw progress (stderr is a terminal and not quiet) */
    int color;            /* colour allowed (terminal and NO_COLOR unset) */
    double progress_last; /* time progress was last drawn */
};

void kz_cli_init(struct kz_cli *c, const char *command);
/* Prints "kizuki CMD: message" on stderr (clearing a progress line first). */
void kz_cli_error(struct kz_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kz_cli_warn(struct kz_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Redraws the progress line at most 4 times a second; done/total in bytes. */
void kz_cli_progress(struct kz_cli *c, uint64_t done, uint64_t total, uint64_t records);
void kz_cli_progress_clear(struct kz_cli *c);
/* Seconds since an arbitrary start, monotonic. */
double kz_cli_now(void);

/* Option matching: returns 1 if argv[*i] is `name`; for options with a value, sets *val to the next
 * argument (or the part after '=') and advances *i, printing a usage error and setting *bad when
 * the value is missing. */
int kz_cli_flag(const char *arg, const char *name);
int kz_cli_opt(struct kz_cli *c, int argc, char **argv, int *i, const char *name, const char **val,
               int *bad);
/* Parses a positive integer option value. */
int kz_cli_int(struct kz_cli *c, const char *name, const char *val, long min, long max, long *out);
void kz_cli_print_version(void);
/* The options every command takes: --help/-h (prints help), --version, --quiet/-q (sets c->quiet).
 * Returns KZ_CLI_NOT_COMMON when arg is none of them, KZ_CLI_HANDLED when it was --quiet, and
 * KZ_CLI_DONE when help or the version was printed and the command should exit 0. */
enum { KZ_CLI_NOT_COMMON = 0, KZ_CLI_HANDLED, KZ_CLI_DONE };
int kz_cli_common(struct kz_cli *c, const char *arg, const char *help);

int kz_cmd_dump(int argc, char **argv);
int kz_cmd_rules(int argc, char **argv);
int kz_cmd_simulate(int argc, char **argv);
int kz_cmd_scan(int argc, char **argv);
int kz_cmd_eval(int argc, char **argv);
int kz_cmd_risk(int argc, char **argv);
int kz_cmd_ingest(int argc, char **argv);
int kz_cmd_verify(int argc, char **argv);
int kz_cmd_scope(int argc, char **argv);
int kz_cmd_timeline(int argc, char **argv);

#endif
