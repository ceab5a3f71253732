# embed.cmake - compiles data files into the binary, so `kizuki` needs nothing installed beside it.
#
# The files: data/*.yml (the Sigma logsource mapping) and every rules/**/*.yml (kizuki's own rules).
# They stay ordinary files in the repository, edited as data; the build turns them into one C file
# (KZ_EMBED_SOURCE) holding a table read through src/core/embedded.h. The generated file is rebuilt
# whenever one of them changes or one is added (CONFIGURE_DEPENDS).
file(GLOB_RECURSE KZ_EMBED_FILES CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}
  ${CMAKE_SOURCE_DIR}/data/*.yml ${CMAKE_SOURCE_DIR}/rules/*.yml)
list(SORT KZ_EMBED_FILES)
set(KZ_EMBED_SOURCE ${CMAKE_BINARY_DIR}/kz_embedded.c)
add_custom_command(
  OUTPUT ${KZ_EMBED_SOURCE}
  COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${KZ_EMBED_SOURCE}
          "-DFILES=${KZ_EMBED_FILES}" -P ${CMAKE_SOURCE_DIR}/cmake/embed_gen.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/cmake/embed_gen.cmake ${KZ_EMBED_FILES}
  COMMENT "Embedding data/ and rules/"
  VERBATIM)
