# Locates the optional cr16-elf cross toolchain. Tests that need it skip
# cleanly when it is absent; the build itself never needs it.
set(CR16_PREFIX "$ENV{CR16_PREFIX}")
if(NOT CR16_PREFIX)
  set(CR16_PREFIX "$ENV{HOME}/.cache/cr16-toolchain")
endif()
find_program(CR16_ELF_GCC cr16-elf-gcc HINTS ${CR16_PREFIX}/bin NO_CACHE)
find_program(CR16_ELF_OBJDUMP cr16-elf-objdump HINTS ${CR16_PREFIX}/bin NO_CACHE)
find_program(CR16_ELF_RUN cr16-elf-run HINTS ${CR16_PREFIX}/bin NO_CACHE)
if(CR16_ELF_GCC)
  message(STATUS "cr16 cross toolchain: ${CR16_ELF_GCC}")
else()
  message(STATUS "cr16 cross toolchain not found: firmware uses the prebuilt images in roms/")
endif()
