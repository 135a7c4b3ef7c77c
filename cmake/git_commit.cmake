# Run by the sfkb_git_commit target on every build (cmake -P): writes OUTPUT from TEMPLATE with
# the current short commit. configure_file rewrites OUTPUT only when its text changes, so an
# unchanged commit recompiles nothing and a new one recompiles this one file.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE SFKB_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT SFKB_GIT_COMMIT)
  set(SFKB_GIT_COMMIT unknown)
endif()
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
