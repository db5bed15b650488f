/* The file-format API is public: see include/aaren_io.h. */
#include "aaren_io.h"
