# find_package(AchillesPluginSdk) finds the same package as
# find_package(AchillesPluginSDK): CMake looks for <name>Config.cmake or
# <lower-case name>-config.cmake, and this is the second for either spelling.
include("${CMAKE_CURRENT_LIST_DIR}/AchillesPluginSDKConfig.cmake")
