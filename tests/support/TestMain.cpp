// Runs every CppUnit suite registered in this executable; non-zero exit on any failure.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <csignal>
#include <iostream>

#include "support/TestSupport.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CppUnit::TestResult controller;
  CppUnit::TestResultCollector result;
  controller.addListener(&result);
  CppUnit::BriefTestProgressListener progress;
  controller.addListener(&progress);
  CppUnit::TestRunner runner;
  runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
  // An optional argument selects one suite or test by name, e.g. "StoreTest::testMigrate".
  runner.run(controller, argc > 1 ? argv[1] : "");
  CppUnit::CompilerOutputter(&result, std::cerr).write();
  if (!result.wasSuccessful()) return 1;
  const auto& skipped = portico::test::skipReasons();
  if (skipped.empty()) return 0;
  for (const auto& reason : skipped) std::cerr << "SKIPPED: " << reason << std::endl;
  return portico::test::kSkipped;
}
