#include "daemon/config/config.h"
