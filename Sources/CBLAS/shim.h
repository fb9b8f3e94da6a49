// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, found through pkg-config "openblas").
#include <cblas.h>
// Threads OpenBLAS may use; declared by OpenBLAS's cblas.h as well.
