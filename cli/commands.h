// achillesctl's command table: for each command, the positional arguments
// and the flags it takes, so a misplaced flag or a stray argument is a
// usage error naming it instead of being silently ignored, and
// `achillesctl COMMAND --help` prints that command's synopsis and flags
// only. A new command belongs in the table (cli/commands.cc); one missing
// from it is NOT_FOUND here and is dispatched unchecked.
#ifndef ACHILLES_CLI_COMMANDS_H_
#define ACHILLES_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace achilles::cli {

// The flag names given in argv (without dashes or values; "--nojson" is
// "json"), up to a "--".
std::vector<std::string> FlagNamesInArgs(int argc, char** argv);

// True when argv asks for help (--help, -h, --helpfull, ...).
bool WantsHelp(int argc, char** argv);

// OK when `args` (the words after the flags: command, subcommand,
// arguments) name a known command with the right number of arguments and
// `flags` are the global flags or that command's. INVALID_ARGUMENT
// naming the command and the argument or flag otherwise; NOT_FOUND for an
// unknown command.
absl::Status CheckCommand(const std::vector<std::string>& args,
                          const std::vector<std::string>& flags);

// Help for the command `args` names (its synopsis and each flag with its
// help text); "" when `args` names none.
std::string CommandHelp(const std::vector<std::string>& args);

}  // namespace achilles::cli

#endif  // ACHILLES_CLI_COMMANDS_H_
