// zlib (Debian: libz-dev / zlib1g-dev): inflate for gzip members in WET files and arXiv .tar.gz sources.
#include <zlib.h>
