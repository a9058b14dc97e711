@capture
Feature: Capture the Current System State
  Depending on your server model, you can capture a system state after you have a working configuration
  in place: Capture System Image creates an image of the current system state, excluding recordings
  and logs, and saves it on the internal USB flash drive. Only one capture is kept.

  @seed.capture.intro @seed.capture.step1 @seed.capture.step2 @seed.capture.step3 @seed.capture.step4
  @seed.capture.step5 @seed.capture.step6 @seed.capture.step7 @seed.capture.step8 @seed.msg.capture_done
  @libvirt
  Scenario: Capture the configured state of a Customer Interaction Center 360 G7
    Given a Customer Interaction Center 360 G7 packaged server
    And the administrator has written "site=Indianapolis" to "/config/site.conf"
    When I reboot the machine
    Then the HP ProLiant Power-On Self-Test (POST) runs
    When I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    Then the Welcome to the Interaction Recovery Environment screen appears
    When I click Capture System Image
    Then the system requests confirmation of the system image capture operation
    When I click Confirm to proceed
    Then "System state capture complete. Click 'Restart' to restart the machine." appears
    When I click Restart
    And I select Yes to confirm that I want to restart
    Then the server boots from the hard drive
    And the file "/config/site.conf" on the installed system contains "site=Indianapolis"
    And the DriveKey holds exactly one User Configured Image, captured from the Customer Interaction Center
    And the Standard Factory Image on the DriveKey is unchanged

  @seed.capture.note_recordings @seed.capture.intro @seed.restore_captured.step4
  Scenario: The capture process does NOT save recordings and logs
    Given a Customer Interaction Center 360 G7 packaged server
    And the administrator has written "site=Indianapolis" to "/config/site.conf"
    And the administrator has written "audio of call 7" to "/recordings/2026/11/29/call-7.wav"
    And the administrator has written "log of today" to "/logs/system/today.log"
    When I capture the current system state with Capture System Image
    Then the file "/recordings/2026/11/29/call-7.wav" on the installed system contains "audio of call 7"
    When I restore the User Configured Image
    Then the file "/config/site.conf" on the installed system contains "site=Indianapolis"
    And the folder "/recordings" on the installed system is empty
    And the folder "/logs" on the installed system is empty

  @seed.capture.note_one
  Scenario: Capturing again overwrites the previous capture: only ONE system state capture is kept
    Given a Customer Interaction Center 360 G7 packaged server
    And the administrator has written "captured first" to "/config/first.conf"
    And the current system state has been captured
    And the administrator has removed "/config/first.conf"
    And the administrator has written "captured second" to "/config/second.conf"
    When I capture the current system state with Capture System Image
    Then the DriveKey holds exactly one User Configured Image, captured from the Customer Interaction Center
    When I restore the User Configured Image
    Then the file "/config/second.conf" on the installed system contains "captured second"
    And the file "/config/first.conf" is no longer on the installed system
