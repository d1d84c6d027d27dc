// stb_image's implementation, built here with only the PNG, JPEG and BMP decoders: fewer formats,
// less untrusted-input surface. Files are read by image.cpp, so stb's stdio API is left out.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>
