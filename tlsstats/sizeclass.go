package tlsstats

// sizeClasses are the Go heap's small-object size classes (Go 1.26,
// internal/runtime/gc.SizeClassToSize, class 0 dropped). A make([]byte, n)
// of up to 32 KiB occupies the smallest class that holds n bytes; larger
// ones occupy whole 8 KiB pages.
var sizeClasses = [...]int64{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

const (
	pageSize     = 8192
	maxSmallSize = 32768
	// Every size class above 1024 bytes is a multiple of 128, every one
	// below a multiple of 8, so the class of n is found by looking up n
	// rounded up to those steps (as the runtime does).
	smallStep, smallMax, largeStep = 8, 1024, 128
)

// classBySize8 and classBySize128 index sizeClasses by size rounded up to
// 8 bytes (up to 1024) and to 128 bytes (up to 32 KiB). They are computed
// from sizeClasses when the package is initialised.
var classBySize8, classBySize128 = classTables()

func classTables() (by8 [smallMax/smallStep + 1]uint8, by128 [(maxSmallSize-smallMax)/largeStep + 1]uint8) {
	c := 0
	for i := range by8 {
		for sizeClasses[c] < int64(i*smallStep) {
			c++
		}
		by8[i] = uint8(c)
	}
	for i := range by128 {
		for sizeClasses[c] < int64(smallMax+i*largeStep) {
			c++
		}
		by128[i] = uint8(c)
	}
	return by8, by128
}

// sizeClass returns the heap bytes an allocation of n bytes (without
// pointers) occupies: n rounded up to its size class, or to whole pages
// past 32 KiB. It returns 0 for n <= 0.
func sizeClass(n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= smallMax:
		return sizeClasses[classBySize8[(n+smallStep-1)/smallStep]]
	case n <= maxSmallSize:
		return sizeClasses[classBySize128[(n-smallMax+largeStep-1)/largeStep]]
	}
	return (n + pageSize - 1) / pageSize * pageSize
}
