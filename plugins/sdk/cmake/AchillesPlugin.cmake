# achilles_add_plugin(<target> <sources>...)
# Builds a protocol plugin: a MODULE library named <target>.so (no "lib"
# prefix) that exports only the ABI entry symbol and links the shared
# message library, never its own copy of the generated protobuf code.
function(achilles_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  if(TARGET achilles_plugin_sdk)
    target_link_libraries(${target} PRIVATE achilles_plugin_sdk)
  else()
    target_link_libraries(${target} PRIVATE AchillesPluginSDK::achilles_plugin_sdk)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_STANDARD 17
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
