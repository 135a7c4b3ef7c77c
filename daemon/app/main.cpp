// The executable is a thin shell over the app library (cli.cpp).
#include "daemon/app/cli.h"

int main(int argc, char** argv) {
  return sfkb::app::cli_main(argc, argv);
}
