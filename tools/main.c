#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv) { return sn_cli_main(argc, argv, stdout, stderr); }
