# Version check for the lower-case spelling (achillespluginsdk-config.cmake).
include("${CMAKE_CURRENT_LIST_DIR}/AchillesPluginSDKConfigVersion.cmake")
